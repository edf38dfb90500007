// A small JSON Schema (draft 2020-12) checker for what zod's toJSONSchema emits and the OpenAPI
// document uses: type, enum, const, properties / required / additionalProperties, items,
// anyOf / oneOf / allOf, $ref into the document, pattern, lengths, bounds. Formats are not checked.

export type Schema = Record<string, unknown>;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function resolve(root: unknown, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`external $ref ${ref}`);
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  if (typeof node !== 'object' || node === null) throw new Error(`unresolved $ref ${ref}`);
  return node as Schema;
}

/** Every way `value` breaks `schema`, as `path: problem`; [] when it conforms. */
export function validate(value: unknown, schema: Schema | boolean, root: unknown, path = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: no value is allowed here`];
  if (typeof schema.$ref === 'string') return validate(value, resolve(root, schema.$ref), root, path);
  const problems: string[] = [];
  const actual = typeOf(value);

  if (schema.type !== undefined) {
    const types = [schema.type].flat() as string[];
    const ok = types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
    if (!ok) return [`${path}: is ${actual}, the schema says ${types.join(' | ')}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) problems.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) problems.push(`${path}: must be ${JSON.stringify(schema.const)}`);

  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) problems.push(`${path}: does not match ${schema.pattern}`);
    if (typeof schema.minLength === 'number' && [...value].length < schema.minLength) problems.push(`${path}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && [...value].length > schema.maxLength) problems.push(`${path}: longer than ${schema.maxLength}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${path}: below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) problems.push(`${path}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) problems.push(`${path}: fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) problems.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.items !== undefined) value.forEach((item, i) => problems.push(...validate(item, schema.items as Schema, root, `${path}[${i}]`)));
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in object)) problems.push(`${path}: ${key} is missing`);
    for (const [key, item] of Object.entries(object)) {
      const property = properties[key];
      if (property !== undefined) problems.push(...validate(item, property, root, `${path}.${key}`));
      else if (schema.additionalProperties === false) problems.push(`${path}: ${key} is not in the schema`);
      else if (typeof schema.additionalProperties === 'object') problems.push(...validate(item, schema.additionalProperties as Schema, root, `${path}.${key}`));
    }
    if (typeof schema.maxProperties === 'number' && Object.keys(object).length > schema.maxProperties) problems.push(`${path}: more than ${schema.maxProperties} keys`);
  }
  if (Array.isArray(schema.allOf)) for (const part of schema.allOf as Schema[]) problems.push(...validate(value, part, root, path));
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const options = schema[keyword];
    if (!Array.isArray(options)) continue;
    const passing = (options as Schema[]).filter((option) => validate(value, option, root, path).length === 0).length;
    if (passing === 0 || (keyword === 'oneOf' && passing > 1)) problems.push(`${path}: matches ${passing} of the ${keyword} alternatives`);
  }
  return problems;
}
