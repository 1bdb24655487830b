/** Data attributes: list standard and custom ones per model, create custom ones. */
import { Hono } from "hono";
import { customAttributeJson, DATA_TYPES, isValidAttributeName, standardAttributes } from "../attributes";
import type { SimCore } from "../core";
import { invalid } from "../errors";
import { bodyObject, optionalBoolean, optionalString, rejectUnknownKeys, type SimEnv } from "../http";
import { numericId } from "../ids";
import type { AttributeModel, DataType } from "../types";
import type { Workspace } from "../workspace";

const MODELS: readonly AttributeModel[] = ["contact", "company"];
const invalidModel = () => invalid("The Data Attribute model field must be either contact or company");

function listOf(ws: Workspace, model: AttributeModel) {
  return [...standardAttributes(model), ...[...ws.customAttributes[model].values()].map(customAttributeJson)];
}

/** `GET` and `POST /data_attributes`. */
export function dataAttributeRoutes(core: SimCore) {
  return new Hono<SimEnv>()
    .get("/data_attributes", (c) => {
      const ws = c.get("ws");
      const model = c.req.query("model");
      if (model !== undefined && !MODELS.includes(model as AttributeModel)) throw invalidModel();
      const models = model === undefined ? MODELS : [model as AttributeModel];
      return c.json({ type: "list", data: models.flatMap((m) => listOf(ws, m)) });
    })
    .post("/data_attributes", (c) => {
      const ws = c.get("ws");
      const body = bodyObject(c);
      rejectUnknownKeys(body, new Set(["name", "model", "data_type", "description", "messenger_writable"]));
      const model = body.model as AttributeModel;
      if (!MODELS.includes(model)) throw invalidModel();
      const name = typeof body.name === "string" ? body.name : "";
      if (!isValidAttributeName(name))
        throw invalid(
          "Your name for this attribute must only contain alphanumeric characters, currency symbols, and hyphens",
        );
      // "options" (list) attributes are not simulated.
      if (!DATA_TYPES.includes(body.data_type as DataType)) throw invalid("Data Type isn't an option");
      const taken = ws.customAttributes[model].has(name) || standardAttributes(model).some((a) => a.name === name);
      if (taken) {
        const data = model === "contact" ? "people" : "company";
        throw invalid(
          `You already have '${name}' in your ${data} data. To save this as new ${data} data, use a different name.`,
        );
      }
      const attribute = {
        id: Number(numericId()),
        name,
        model,
        data_type: body.data_type as DataType,
        description: optionalString(body, "description") ?? null,
        messenger_writable: optionalBoolean(body, "messenger_writable") ?? false,
        created_at: core.nowSeconds(),
        admin_id: ws.admin.id,
      };
      ws.customAttributes[model].set(name, attribute);
      return c.json(customAttributeJson(attribute));
    });
}
