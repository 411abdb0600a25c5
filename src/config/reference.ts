import * as z from "zod";
import { ProbeWire, SloFileWire } from "./wire.js";

/**
 * The key reference of docs/configuration.md, generated from the wire schema so that the
 * documentation cannot drift from what the loader accepts.
 */

interface JsonSchema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minLength?: number;
}

interface Row {
  readonly key: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
}

export const REFERENCE_BEGIN =
  "<!-- BEGIN GENERATED: configuration reference (npx tsx scripts/gen-config-reference.ts) -->";
export const REFERENCE_END = "<!-- END GENERATED: configuration reference -->";

export function configurationReference(): string {
  const sloRows = rowsOf(jsonSchemaOf(SloFileWire), "", true).filter((r) => r.key !== "probes[]");
  const probeRows = rowsOf(jsonSchemaOf(ProbeWire), "", true);
  return [
    "### slo.yaml",
    "",
    table(sloRows.filter((r) => !r.key.startsWith("probes[]."))),
    "",
    "### Probe files (`probes/*.yaml`, a list) and the inline `probes:` list",
    "",
    table(probeRows.map((r) => ({ ...r, key: `[].${r.key}` }))),
    "",
  ].join("\n");
}

/** Replaces the generated section of a document with the current reference. */
export function withCurrentReference(document: string): string {
  const begin = document.indexOf(REFERENCE_BEGIN);
  const end = document.indexOf(REFERENCE_END);
  if (begin === -1 || end < begin) throw new Error("the document has no generated reference section");
  return `${document.slice(0, begin + REFERENCE_BEGIN.length)}\n\n${configurationReference()}\n${document.slice(end)}`;
}

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
}

function rowsOf(schema: JsonSchema, key: string, required: boolean): Row[] {
  const rows: Row[] = key === "" ? [] : [rowFor(schema, key, required)];
  const prefix = key === "" ? "" : `${key}.`;
  if (schema.properties) {
    for (const [name, child] of Object.entries(schema.properties)) {
      rows.push(...rowsOf(child, `${prefix}${name}`, schema.required?.includes(name) ?? false));
    }
  } else if (typeof schema.additionalProperties === "object" && schema.additionalProperties.properties) {
    rows.push(...rowsOf(schema.additionalProperties, `${prefix}<id>`, true).slice(1));
  } else if (schema.items?.properties) {
    rows.push(...rowsOf(schema.items, `${key}[]`, true).slice(1));
  } else if (schema.oneOf?.every((option) => option.properties?.type?.const !== undefined)) {
    rows.push(...variantRows(schema.oneOf, prefix));
  } else if (schema.items?.oneOf?.every((option) => option.properties?.type?.const !== undefined)) {
    rows.push(...variantRows(schema.items.oneOf, `${key}[].`));
  }
  return rows;
}

/** A discriminated union on `type`: one row for `type`, then each variant's keys, labelled. */
function variantRows(options: JsonSchema[], prefix: string): Row[] {
  const kinds = options.map((o) => `\`${String(o.properties!.type!.const)}\``);
  const rows: Row[] = [
    {
      key: `${prefix}type`,
      type: kinds.join(" \\| "),
      default: "required",
      description: "Which kind; the keys below apply to the kind in brackets.",
    },
  ];
  for (const option of options) {
    const kind = String(option.properties!.type!.const);
    for (const [name, child] of Object.entries(option.properties!)) {
      if (name === "type") continue;
      const row = rowFor(child, `${prefix}${name}`, option.required?.includes(name) ?? false);
      rows.push({ ...row, description: `(${kind}) ${row.description}` });
    }
  }
  return rows;
}

function rowFor(schema: JsonSchema, key: string, required: boolean): Row {
  const fallback = required ? "required" : "";
  return {
    key,
    type: typeOf(schema),
    default: schema.default === undefined ? fallback : `\`${JSON.stringify(schema.default)}\``,
    description: schema.description ?? "",
  };
}

function typeOf(schema: JsonSchema): string {
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (schema.enum) return schema.enum.map((v) => `\`${v}\``).join(" \\| ");
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return [...new Set(variants.map(typeOf))].join(" or ");
  if (Array.isArray(schema.type)) return schema.type.join(" or ");
  if (schema.type === "object") return mappingType(schema);
  if (schema.type === "array") return schema.items?.type === "string" ? "list of strings" : "list";
  return schema.type ?? "any";
}

function mappingType(schema: JsonSchema): string {
  if (schema.properties) return "mapping";
  const values = schema.additionalProperties;
  if (typeof values === "object" && values.properties) return "mapping of id to entry";
  if (typeof values === "object" && values.type === "string") return "mapping of name to string";
  return "mapping";
}

function table(rows: readonly Row[]): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const lines = rows.map((r) => `| \`${r.key}\` | ${r.type} | ${r.default} | ${cell(r.description)} |`);
  return ["| key | type | default | meaning |", "| --- | --- | --- | --- |", ...lines].join("\n");
}
