/**
 * Mapping targets of a settings PATCH (pure). Standard attributes carry their own type; a custom attribute already
 * mapped keeps its stored type; any other custom target is checked against the workspace's data attributes: created
 * with the declared type when missing, refused when its type clashes, it is archived or not writable.
 */
import type { FieldMapping } from "../db/schema";
import { type AttributeType, CUSTOM_PREFIX, checkTarget, type IntercomModel } from "../intercom/attributes";
import type { DataAttributeInfo } from "../intercom/workspace";
import type { FieldError } from "../lib/errors";
import { MAPPING_TYPES, type MappingPatch, typesCompatible } from "./settings";

export type MappingPatches = Partial<Record<IntercomModel, MappingPatch[]>>;
export type StoredMappings = Record<IntercomModel, FieldMapping[]>;

export interface MappingPlan {
  /** Each patched model's mappings, every `type` filled in. */
  resolved: Partial<Record<IntercomModel, FieldMapping[]>>;
  errors: FieldError[];
  /** Custom attributes to create in Intercom before the settings are saved. */
  toCreate: Array<{ model: IntercomModel; name: string; type: AttributeType; path: string }>;
}

interface CustomTarget {
  model: IntercomModel;
  index: number;
  name: string;
  type: AttributeType | undefined;
}

/** The models whose data attributes the plan needs: those with a new custom target, or one with a new type. */
export function modelsToCheck(stored: StoredMappings, patches: MappingPatches): IntercomModel[] {
  return patchedModels(patches).filter((model) => customTargets(model, stored, patches[model]!).unknown.length > 0);
}

/** The plan of a PATCH's mappings against the stored ones and the workspace's data attributes of `modelsToCheck`. */
export function planMappings(
  stored: StoredMappings,
  patches: MappingPatches,
  attributes: Partial<Record<IntercomModel, DataAttributeInfo[]>>,
): MappingPlan {
  const plan: MappingPlan = { resolved: {}, errors: [], toCreate: [] };
  for (const model of patchedModels(patches)) {
    const list = patches[model]!;
    const { out, unknown } = customTargets(model, stored, list);
    const customByName = new Map(
      (attributes[model] ?? []).filter((a) => a.custom || a.fullName.startsWith(CUSTOM_PREFIX)).map((a) => [a.name, a]),
    );
    for (const target of unknown) {
      const mapping = list[target.index]!;
      const path = `destination.mappings.${model}.${target.index}`;
      const decision = decideCustomTarget(target, customByName.get(target.name));
      if ("error" in decision) plan.errors.push({ path: `${path}.${decision.field}`, message: decision.error });
      else {
        out[target.index] = { from: mapping.from, to: mapping.to, type: decision.type };
        if (decision.create) plan.toCreate.push({ model, name: target.name, type: decision.type, path });
      }
    }
    plan.resolved[model] = out;
  }
  return plan;
}

function patchedModels(patches: MappingPatches): IntercomModel[] {
  return (Object.keys(patches) as IntercomModel[]).filter((model) => patches[model] !== undefined);
}

/** Mappings typed without Intercom (standard targets, custom ones stored with this type), and the rest. */
function customTargets(
  model: IntercomModel,
  stored: StoredMappings,
  list: MappingPatch[],
): { out: FieldMapping[]; unknown: CustomTarget[] } {
  const storedTypes = new Map(stored[model].map((m) => [m.to, m.type]));
  const out: FieldMapping[] = [];
  const unknown: CustomTarget[] = [];
  list.forEach((mapping, index) => {
    const target = checkTarget(model, mapping.to);
    if (!target.ok) return; // already refused by the schema
    if (target.kind === "standard") {
      out[index] = { from: mapping.from, to: mapping.to, type: mapping.type ?? target.type };
      return;
    }
    const storedType = storedTypes.get(mapping.to);
    if (storedType && (mapping.type === undefined || mapping.type === storedType)) {
      out[index] = { from: mapping.from, to: mapping.to, type: storedType };
      return;
    }
    unknown.push({ model, index, name: target.name, type: mapping.type });
  });
  return { out, unknown };
}

type TargetDecision = { type: AttributeType; create: boolean } | { error: string; field: "to" | "type" };

function decideCustomTarget(target: CustomTarget, existing: DataAttributeInfo | undefined): TargetDecision {
  const { model, name, type } = target;
  if (!existing) {
    if (!type)
      return { field: "type", error: `"${name}" does not exist in Intercom yet: give its type so it can be created` };
    return { type, create: true };
  }
  if (existing.archived) {
    return {
      field: "to",
      error: `the Intercom ${model} attribute "${name}" is archived; unarchive it in Intercom or pick another name`,
    };
  }
  if (!existing.apiWritable) {
    return { field: "to", error: `the Intercom ${model} attribute "${name}" cannot be written through the API` };
  }
  if (type && !typesCompatible(type, existing.dataType)) {
    return {
      field: "type",
      error: `the Intercom ${model} attribute "${name}" is of type ${existing.dataType}, not ${type}`,
    };
  }
  const effective = type ?? asMappingType(existing.dataType);
  if (!effective) {
    return {
      field: "type",
      error: `the Intercom attribute "${name}" has type ${existing.dataType}; give a mapping type`,
    };
  }
  return { type: effective, create: false };
}

function asMappingType(dataType: string): FieldMapping["type"] | null {
  if (dataType === "options") return "string";
  return (MAPPING_TYPES as readonly string[]).includes(dataType) ? (dataType as FieldMapping["type"]) : null;
}
