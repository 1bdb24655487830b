/** Intercom custom attributes on the source side: their remote-state values and the CDP properties they land in. */
import type { FieldMapping } from "../db/schema";
import { isoFromSeconds, unixSeconds } from "../intercom/times";
import { CUSTOM_ATTRIBUTE_PREFIX, type RemoteState } from "./echo";

const DATE_TYPES: ReadonlySet<FieldMapping["type"]> = new Set(["date", "datetime"]);

function mappingOf(mappings: readonly FieldMapping[], name: string): FieldMapping | undefined {
  const target = `${CUSTOM_ATTRIBUTE_PREFIX}${name}`;
  return mappings.find((mapping) => mapping.to === target);
}

/**
 * The CDP property of custom attribute `name`: the `from` of the destination mapping that targets
 * `custom_attributes.<name>` (so a round trip lands where it started), else the attribute's own name.
 */
export function propertyOfCustomAttribute(mappings: readonly FieldMapping[], name: string): string {
  return mappingOf(mappings, name)?.from ?? name;
}

/**
 * `custom_attributes.<name>` entries of an item, in the remote state's REST representation: an attribute mapped as a
 * date holds Unix seconds (what the destination writes and records), whatever form the item gave it in.
 */
export function customAttributeState(
  attributes: Record<string, unknown> | null | undefined,
  mappings: readonly FieldMapping[],
): RemoteState {
  const state: RemoteState = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    const isDate = DATE_TYPES.has(mappingOf(mappings, name)?.type ?? "string");
    state[`${CUSTOM_ATTRIBUTE_PREFIX}${name}`] =
      isDate && value !== null ? (unixSeconds(value) ?? value) : (value ?? null);
  }
  return state;
}

/** The CDP property and value of a changed custom attribute; dates land as ISO strings, like every CDP time. */
export function customAttributeProperty(
  mappings: readonly FieldMapping[],
  name: string,
  value: unknown,
): [string, unknown] {
  const mapping = mappingOf(mappings, name);
  const isDate = mapping !== undefined && DATE_TYPES.has(mapping.type) && typeof value === "number";
  return [mapping?.from ?? name, isDate ? isoFromSeconds(value) : value];
}
