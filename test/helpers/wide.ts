import type { FieldMapping } from "../../src/db/schema";
import { wideAttributeDefinitions } from "./intercom-sim";

/** The simulator's 100 wide contact attributes (mixed types, one name of the maximum length). */
export const WIDE_CONTACT_ATTRIBUTES = wideAttributeDefinitions("contact");

/** A user's 100 properties, one per wide contact attribute, strings 255 characters of mixed scripts. */
export function wideProperties(seed: number): Record<string, unknown> {
  const text = wideText(seed);
  return Object.fromEntries(
    WIDE_CONTACT_ATTRIBUTES.map((attribute, i) => {
      switch (attribute.data_type) {
        case "string":
          return [attribute.name, text];
        case "integer":
          return [attribute.name, seed * 1000 + i];
        case "float":
          return [attribute.name, seed + i / 100];
        case "boolean":
          return [attribute.name, (seed + i) % 2 === 0];
        default:
          return [attribute.name, "2026-03-01T12:00:00Z"];
      }
    }),
  );
}

/** The 255-character string value `wideProperties(seed)` gives every string attribute. */
export function wideText(seed: number): string {
  return `Ünïcödé ${seed} — 東京 🚀 `.repeat(20).slice(0, 255);
}

/** One mapping per wide contact attribute, from the CDP property of the same name. */
export const WIDE_CONTACT_MAPPINGS: FieldMapping[] = WIDE_CONTACT_ATTRIBUTES.map((attribute) => ({
  from: attribute.name,
  to: `custom_attributes.${attribute.name}`,
  type: attribute.data_type === "datetime" ? "date" : (attribute.data_type as FieldMapping["type"]),
}));
