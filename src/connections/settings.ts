/**
 * Connection settings as the API accepts and returns them (README, API): zod schemas that validate requests and
 * generate the OpenAPI description, the merge of a partial PATCH into stored settings, and the JSON view of a row.
 */
import { z } from "@hono/zod-openapi";
import type { DestinationSettings, FieldMapping, SourceSettings } from "../db/schema";
import { canClear, checkTarget, type IntercomModel } from "../intercom/attributes";
import { DEFAULT_DESTINATION_SETTINGS, DEFAULT_SOURCE_SETTINGS } from "./defaults";
import type { Connection as ConnectionRow } from "./repository";

export const REGIONS = ["US", "EU", "AU"] as const;
export const STATUSES = ["connected", "revoked", "error", "disconnected"] as const;
export const MAPPING_TYPES = ["string", "integer", "float", "boolean", "date", "datetime"] as const;
export const MAX_MAPPINGS_PER_MODEL = 100;
export const MAX_SEGMENTS = 200;

export const Region = z.enum(REGIONS).openapi({ description: "Intercom data-hosting region (US, EU or AU)." });
export const ConnectionName = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");

const SOURCE_FLAGS = {
  enabled: z.boolean(),
  capture_chat_events: z.boolean(),
  capture_user_events: z.boolean(),
  create_users_from_contacts: z.boolean(),
  create_accounts_from_companies: z.boolean(),
  capture_relationships: z.boolean(),
  on_contact_deleted: z.enum(["unlink", "erase"]).openapi({
    description: "An Intercom contact.deleted: `unlink` (the CDP user stays) or `erase` (the CDP person is erased).",
  }),
  import_on_enable: z.boolean().openapi({
    description: "Import what Intercom already holds the first time the source is on for this connection.",
  }),
};

export const SourceSettingsSchema = z.object(SOURCE_FLAGS).openapi("SourceSettings", {
  description: "Intercom → CDP. `enabled` switches the whole direction; each flag one kind of capture.",
});

export const FieldMappingSchema = z
  .object({
    from: z.string().openapi({ description: "CDP property (computed ones included: scores, stage, health…)." }),
    to: z.string().openapi({ description: "A writable standard Intercom attribute or `custom_attributes.<name>`." }),
    type: z.enum(MAPPING_TYPES).openapi({ description: "The Intercom data type the value is coerced to." }),
  })
  .openapi("FieldMapping");

const OnErase = z.enum(["none", "archive", "delete"]).openapi({
  description: "Erasing a CDP person: `none` leaves its Intercom contact, `archive` archives it, `delete` deletes it.",
});
const ClearRemoved = z.boolean().openapi({
  description: "A mapped CDP property removed (set to null) clears the Intercom attribute on the next sync.",
});

export const DestinationSettingsSchema = z
  .object({
    enabled: z.boolean(),
    segments: z
      .array(z.string())
      .openapi({ description: "Empty: every user syncs; else users in at least one of these." }),
    allow_create: z.boolean().openapi({ description: "false: update existing contacts/companies only." }),
    mappings: z.object({ contact: z.array(FieldMappingSchema), company: z.array(FieldMappingSchema) }),
    on_erase: OnErase,
    clear_removed: ClearRemoved,
  })
  .openapi("DestinationSettings", { description: "CDP → Intercom." });

/** The example of a connection in the OpenAPI description. */
export const CONNECTION_EXAMPLE = {
  id: "2b0c6d6e-3f7e-4c52-9a51-1f0d3c8e9a10",
  name: "Acme Intercom",
  status: "connected",
  intercom: { app_id: "abc123de", name: "Acme", region: "EU" },
  source: {
    enabled: true,
    capture_chat_events: true,
    capture_user_events: true,
    create_users_from_contacts: true,
    create_accounts_from_companies: true,
    capture_relationships: true,
    on_contact_deleted: "unlink",
    import_on_enable: true,
  },
  destination: {
    enabled: true,
    segments: ["customers"],
    allow_create: false,
    mappings: { contact: [{ from: "health", to: "custom_attributes.health", type: "float" }], company: [] },
    on_erase: "none",
    clear_removed: false,
  },
  created_at: "2026-11-20T08:00:00.000Z",
  updated_at: "2026-11-28T09:58:02.000Z",
} as const;

export const ConnectionSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(STATUSES).openapi({
      description: "`revoked`: Intercom no longer accepts the token (reconnect); `disconnected`: deleted by an admin.",
    }),
    intercom: z.object({ app_id: z.string().nullable(), name: z.string().nullable(), region: Region }),
    source: SourceSettingsSchema,
    destination: DestinationSettingsSchema,
    created_at: z.string().openapi({ format: "date-time" }),
    updated_at: z.string().openapi({ format: "date-time" }),
  })
  .openapi("Connection", { example: CONNECTION_EXAMPLE });

export type ConnectionJson = z.infer<typeof ConnectionSchema>;

/** The API view of a stored connection: never the token. */
export function connectionJson(row: ConnectionRow): ConnectionJson {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    intercom: { app_id: row.appId, name: row.appName, region: row.region },
    source: { ...DEFAULT_SOURCE_SETTINGS, ...row.source } as ConnectionJson["source"],
    destination: { ...DEFAULT_DESTINATION_SETTINGS, ...row.destination } as ConnectionJson["destination"],
    created_at: new Date(row.createdAt).toISOString(),
    updated_at: new Date(row.updatedAt).toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// PATCH: every level strict (unknown keys are errors), every key optional; arrays (segments, a model's mappings)
// replace the stored ones.

const MappingInput = (model: IntercomModel) =>
  z
    .strictObject({
      from: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"),
      to: z.string().trim().min(1, "must not be empty").max(250, "must be at most 250 characters"),
      type: z.enum(MAPPING_TYPES).optional().openapi({
        description: "Required for a custom attribute that does not exist yet; defaults to the attribute's type.",
      }),
    })
    .superRefine((mapping, ctx) => {
      const target = checkTarget(model, mapping.to);
      if (!target.ok) {
        ctx.addIssue({ code: "custom", path: ["to"], message: target.message });
        return;
      }
      // Standard numbers take either numeric type (Intercom lists monthly_spend as a float, yet stores an integer).
      const numeric = ["integer", "float"];
      const bothNumeric =
        target.kind === "standard" && numeric.includes(target.type) && numeric.includes(mapping.type ?? "");
      if (target.kind === "standard" && mapping.type && !bothNumeric && !typesCompatible(mapping.type, target.type)) {
        ctx.addIssue({
          code: "custom",
          path: ["type"],
          message: `"${mapping.to}" is a ${target.type} attribute; "${mapping.type}" does not fit it`,
        });
      }
    });

const MappingList = (model: IntercomModel) =>
  z
    .array(MappingInput(model))
    .max(MAX_MAPPINGS_PER_MODEL, `at most ${MAX_MAPPINGS_PER_MODEL} mappings per model`)
    .superRefine((list, ctx) => {
      const seen = new Map<string, number>();
      list.forEach((mapping, index) => {
        const first = seen.get(mapping.to);
        if (first !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: [index, "to"],
            message: `"${mapping.to}" is already the target of mapping ${first}`,
          });
        } else seen.set(mapping.to, index);
      });
    });

const Segment = z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters");

export const ConnectionPatchSchema = z
  .strictObject({
    name: ConnectionName.optional(),
    source: z.strictObject(SOURCE_FLAGS).partial().optional(),
    destination: z
      .strictObject({
        enabled: z.boolean(),
        segments: z.array(Segment).max(MAX_SEGMENTS, `at most ${MAX_SEGMENTS} segments`),
        allow_create: z.boolean(),
        mappings: z.strictObject({ contact: MappingList("contact"), company: MappingList("company") }).partial(),
        on_erase: OnErase,
        clear_removed: ClearRemoved,
      })
      .partial()
      .optional(),
  })
  .openapi("ConnectionPatch", {
    example: {
      destination: {
        enabled: true,
        mappings: { contact: [{ from: "health", to: "custom_attributes.health", type: "float" }] },
      },
    },
    description:
      "Partial update: only the keys present change; `segments` and each model's `mappings` replace the stored list. " +
      "Unknown keys are errors.",
  });

export type ConnectionPatch = z.infer<typeof ConnectionPatchSchema>;
export type MappingPatch = z.infer<ReturnType<typeof MappingInput>>;

/** A mapping type may be written to an attribute of `attributeType` (dates take dates or datetimes; floats take integers). */
export function typesCompatible(mappingType: FieldMapping["type"], attributeType: string): boolean {
  if (mappingType === attributeType) return true;
  const dates = ["date", "datetime"];
  if (dates.includes(mappingType) && dates.includes(attributeType)) return true;
  if (mappingType === "integer" && attributeType === "float") return true;
  // A list ("options") attribute holds strings.
  if (mappingType === "string" && attributeType === "options") return true;
  return false;
}

/** The settings after a patch whose mappings all have a type (resolved by the caller). */
export function applyPatch(
  current: { name: string; source: SourceSettings; destination: DestinationSettings },
  patch: ConnectionPatch,
  resolvedMappings: Partial<Record<IntercomModel, FieldMapping[]>>,
): { name: string; source: SourceSettings; destination: DestinationSettings } {
  const destinationPatch = patch.destination ?? {};
  const segments = destinationPatch.segments ? [...new Set(destinationPatch.segments)] : current.destination.segments;
  return {
    name: patch.name ?? current.name,
    source: { ...current.source, ...patch.source },
    destination: {
      enabled: destinationPatch.enabled ?? current.destination.enabled,
      allow_create: destinationPatch.allow_create ?? current.destination.allow_create,
      segments,
      mappings: {
        contact: resolvedMappings.contact ?? current.destination.mappings.contact,
        company: resolvedMappings.company ?? current.destination.mappings.company,
      },
      on_erase: destinationPatch.on_erase ?? current.destination.on_erase ?? "none",
      clear_removed: destinationPatch.clear_removed ?? current.destination.clear_removed ?? false,
    },
  };
}

/**
 * With `destination.clear_removed` on (after the patch), every custom mapping must target an attribute Intercom can
 * clear (`canClear`): one `{path, message}` per mapping that cannot, at the mapping when the patch sends it, else at
 * `destination.clear_removed`. Empty when the patch is fine.
 */
export function unclearableMappings(
  current: DestinationSettings,
  patch: ConnectionPatch,
): Array<{ path: string; message: string }> {
  const clearRemoved = patch.destination?.clear_removed ?? current.clear_removed ?? false;
  if (!clearRemoved) return [];
  const errors: Array<{ path: string; message: string }> = [];
  for (const model of ["contact", "company"] as const) {
    const patched = patch.destination?.mappings?.[model];
    const list: Array<{ to: string }> = patched ?? current.mappings[model];
    list.forEach((mapping, index) => {
      if (canClear(model, mapping.to)) return;
      errors.push({
        path: patched ? `destination.mappings.${model}.${index}.to` : "destination.clear_removed",
        message:
          model === "company"
            ? `clear_removed is on and Intercom cannot clear company attributes ("${mapping.to}")`
            : `clear_removed is on and Intercom cannot clear "${mapping.to}" (not nullable)`,
      });
    });
  }
  return errors;
}
