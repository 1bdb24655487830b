/** Which CDP property an Intercom custom attribute lands in. */
import type { FieldMapping } from "../db/schema";
import { CUSTOM_ATTRIBUTE_PREFIX } from "./remote-state";

/**
 * The CDP property of custom attribute `name`: the `from` of the destination mapping that targets
 * `custom_attributes.<name>` (so a round trip lands where it started), else the attribute's own name.
 */
export function propertyOfCustomAttribute(mappings: readonly FieldMapping[], name: string): string {
  const target = `${CUSTOM_ATTRIBUTE_PREFIX}${name}`;
  return mappings.find((mapping) => mapping.to === target)?.from ?? name;
}
