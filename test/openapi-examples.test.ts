import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";

// Every operation of GET /openapi.json shows an example for its request body and for each response with a body
// (problem+json included), and every example fits its schema (a small JSON Schema check: type, enum, required,
// properties, additionalProperties, items, anyOf/allOf, $ref, string lengths).

type Schema = Record<string, any>;
let doc: any;

beforeAll(async () => {
  doc = await (await exports.default.fetch("https://connector.test/openapi.json")).json();
});

function resolve(schema: Schema): Schema {
  return schema.$ref ? resolve(doc.components.schemas[schema.$ref.split("/").pop()]) : schema;
}

function exampleOf(media: Schema): unknown {
  if ("example" in media) return media.example;
  const schema = media.schema ? resolve(media.schema) : {};
  return schema.example;
}

const typeOf = (value: unknown) =>
  value === null ? "null" : Array.isArray(value) ? "array" : Number.isInteger(value) ? "integer" : typeof value;

/** Where `value` breaks `schema` (empty when it fits). */
function mismatches(schemaOrRef: Schema, value: unknown, path = "$"): string[] {
  const schema = resolve(schemaOrRef);
  if (schema.anyOf) {
    const fits = schema.anyOf.some((option: Schema) => mismatches(option, value, path).length === 0);
    return fits ? [] : [`${path}: fits none of anyOf`];
  }
  if (schema.allOf) return schema.allOf.flatMap((part: Schema) => mismatches(part, value, path));
  const problems: string[] = [];
  if (schema.type) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    const actual = typeOf(value);
    const ok = types.includes(actual) || (actual === "integer" && types.includes("number"));
    if (!ok) return [`${path}: ${actual} where ${types.join("|")} is due`];
  }
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) problems.push(`${path}: too short`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${path}: too long`);
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, index) => problems.push(...mismatches(schema.items, item, `${path}[${index}]`)));
  }
  if (typeOf(value) === "object") {
    const object = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in object)) problems.push(`${path}.${key}: missing`);
    for (const [key, item] of Object.entries(object)) {
      const property = schema.properties?.[key];
      if (property) problems.push(...mismatches(property, item, `${path}.${key}`));
      else if (schema.additionalProperties === false) problems.push(`${path}.${key}: not allowed`);
      else if (typeof schema.additionalProperties === "object") {
        problems.push(...mismatches(schema.additionalProperties, item, `${path}.${key}`));
      }
    }
  }
  return problems;
}

describe("OpenAPI examples", () => {
  it("cover every request body and every response body of every operation", () => {
    const missing: string[] = [];
    for (const [path, operations] of Object.entries<any>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        const where = `${method.toUpperCase()} ${path}`;
        for (const [type, media] of Object.entries<any>(operation.requestBody?.content ?? {})) {
          if (exampleOf(media) === undefined) missing.push(`${where} request ${type}`);
        }
        for (const [status, response] of Object.entries<any>(operation.responses)) {
          for (const [type, media] of Object.entries<any>(response.content ?? {})) {
            if (exampleOf(media) === undefined) missing.push(`${where} ${status} ${type}`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it("fit their schemas", () => {
    const wrong: string[] = [];
    for (const [path, operations] of Object.entries<any>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(operations)) {
        const bodies = [
          ...Object.entries<any>(operation.requestBody?.content ?? {}).map(([, media]) => ["request", media] as const),
          ...Object.entries<any>(operation.responses).flatMap(([status, response]) =>
            Object.values<any>(response.content ?? {}).map((media) => [status, media] as const),
          ),
        ];
        for (const [label, media] of bodies) {
          const example = exampleOf(media);
          if (example === undefined || !media.schema) continue;
          for (const problem of mismatches(media.schema, example)) {
            wrong.push(`${method.toUpperCase()} ${path} ${label}: ${problem}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("give each error status its own problem example", () => {
    const notFound = doc.paths["/v1/connections/{id}"].get.responses["404"].content["application/problem+json"];
    expect(exampleOf(notFound)).toMatchObject({ type: "about:blank", title: "Not Found", status: 404 });
    const invalid = doc.paths["/v1/connections/{id}"].patch.responses["422"].content["application/problem+json"];
    expect(exampleOf(invalid)).toMatchObject({
      status: 422,
      errors: [{ path: "destination.mappings.contact.0.type" }],
    });
  });
});
