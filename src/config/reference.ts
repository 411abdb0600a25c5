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
  } else if (discriminatorOf(schema.oneOf)) {
    rows.push(...variantRows(schema.oneOf!, prefix, discriminatorOf(schema.oneOf)!));
  } else if (discriminatorOf(schema.items?.oneOf)) {
    rows.push(...variantRows(schema.items!.oneOf!, `${key}[].`, discriminatorOf(schema.items!.oneOf)!));
  }
  return rows;
}

/** The key a union of mappings is discriminated on (`type` for receivers, `kind` for probes). */
function discriminatorOf(options: JsonSchema[] | undefined): string | null {
  if (!options) return null;
  return (
    ["type", "kind"].find((d) => options.every((option) => option.properties?.[d]?.const !== undefined)) ??
    null
  );
}

/**
 * A discriminated union: one row for the discriminator, then each variant's keys, labelled. A key
 * several variants share with the same meaning is listed once, labelled with each of them.
 */
function variantRows(options: JsonSchema[], prefix: string, discriminator: string): Row[] {
  const kinds = options.map((o) => `\`${String(o.properties![discriminator]!.const)}\``);
  const first = options[0]!.properties![discriminator]!;
  const rows: Row[] = [
    {
      key: `${prefix}${discriminator}`,
      type: kinds.join(" \\| "),
      default: first.default === undefined ? "required" : `\`${JSON.stringify(first.default)}\``,
      description: `Which kind; the keys below apply to the ${discriminator === "kind" ? "kinds" : "kind"} in brackets.`,
    },
  ];
  const seen = new Map<string, { row: Row; kinds: string[] }>();
  for (const option of options) {
    const kind = String(option.properties![discriminator]!.const);
    for (const [name, child] of Object.entries(option.properties!)) {
      if (name === discriminator) continue;
      const row = rowFor(child, `${prefix}${name}`, option.required?.includes(name) ?? false);
      // Probe kinds share most keys: each shared key is listed once (receivers list theirs per type).
      const same = discriminator === "kind" ? JSON.stringify(row) : `${kind}\0${name}`;
      const entry = seen.get(same);
      if (entry) entry.kinds.push(kind);
      else seen.set(same, { row, kinds: [kind] });
    }
  }
  for (const { row, kinds: of } of seen.values()) {
    const own = row.description.replace(/^\([a-z, ]+\) /, "");
    const label = of.length === options.length ? "" : `(${of.join(", ")}) `;
    rows.push({ ...row, description: `${label}${own}` });
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
