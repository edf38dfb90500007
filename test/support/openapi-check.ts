import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { OpenApiDocument, OpenApiOperation } from '../../src/http/openapi.js';

// Holds every API answer a test receives to the served OpenAPI document, judged by independent
// tools (swagger-parser for the document, ajv for the bodies) rather than by our own reading of
// it: a status, a media type or a field the document does not promise fails the test that saw it.

/** One operation of a document: the HTTP method in capitals and the documented path. */
export interface DocumentOperation {
  method: string;
  path: string;
  op: OpenApiOperation;
}

/** Every operation the document lists, path by path. */
export function documentOperations(doc: OpenApiDocument): DocumentOperation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
}

export interface ApiAnswer {
  method: string;
  /** The request URL as sent: base path, path and query. */
  url: string;
  status: number;
  contentType: string | undefined;
  body: string;
  /** The answer's headers, names in lower case; the documented ones present are checked too. */
  headers?: Record<string, unknown>;
}

// Just what this module reads of a dereferenced OpenAPI 3.1 document.
interface Response {
  description: string;
  headers?: Record<string, { schema?: { type?: string } }>;
  content?: Record<string, { schema?: object }>;
}
interface Operation {
  responses?: Record<string, Response>;
}
interface Document {
  servers?: Array<{ url: string }>;
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, object> };
}

interface Template {
  path: string;
  pattern: RegExp;
  item: Record<string, Operation>;
}

/** The media type without parameters: `application/json; charset=utf-8` → `application/json`. */
function mediaTypeOf(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase() || undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

type ParserInput = Parameters<typeof SwaggerParser.validate>[0];

/** Throws swagger-parser's account of the first fault unless `document` is valid OpenAPI (on a copy: it dereferences in place). */
export async function validateOpenApiDocument(document: unknown): Promise<void> {
  await SwaggerParser.validate(structuredClone(document) as ParserInput);
}

export class OpenApiResponseChecker {
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });
  private readonly compiled = new Map<object, ValidateFunction>();
  private readonly templates: Template[];
  private readonly basePath: string;

  private constructor(private readonly document: Document) {
    addFormats.default(this.ajv);
    this.basePath = document.servers?.[0]?.url ?? '';
    this.templates = Object.entries(document.paths ?? {}).map(([path, item]) => ({
      path,
      pattern: new RegExp(`^${path.split(/\{[^}]+\}/).map(escapeRegExp).join('[^/]+')}$`),
      item,
    }));
  }

  /**
   * Validates `document` as OpenAPI with swagger-parser (throwing on any fault) and returns a
   * checker over its dereferenced form.
   */
  static async create(document: unknown): Promise<OpenApiResponseChecker> {
    await validateOpenApiDocument(document);
    const dereferenced = await SwaggerParser.dereference(structuredClone(document) as ParserInput);
    return new OpenApiResponseChecker(dereferenced as unknown as Document);
  }

  /** Whether the URL is under the API's base path (the document's server). */
  isApiUrl(url: string): boolean {
    const pathname = url.split('?')[0] ?? '';
    return pathname === this.basePath || pathname.startsWith(`${this.basePath}/`);
  }

  /** The operation the document declares for this method and URL, if any. */
  operationFor(method: string, url: string): { path: string; operation: Operation } | undefined {
    const pathname = url.split('?')[0] ?? '';
    if (!this.isApiUrl(url)) return undefined;
    const relative = pathname.slice(this.basePath.length);
    const lower = method.toUpperCase() === 'HEAD' ? 'get' : method.toLowerCase();
    for (const template of this.templates) {
      const operation = template.item[lower];
      if (operation && template.pattern.test(relative)) return { path: template.path, operation };
    }
    return undefined;
  }

  /** What is wrong with this answer by the document (empty when it is as documented). */
  problems(answer: ApiAnswer): string[] {
    // The link pages, downloads and purchase webhooks are not part of the API the document describes.
    if (!this.isApiUrl(answer.url)) return [];
    const where = `${answer.method} ${answer.url.slice(0, 200)} → ${answer.status}`;
    const found = this.operationFor(answer.method, answer.url);
    let response: Response | undefined;
    if (found) {
      response = found.operation.responses?.[String(answer.status)];
      if (!response) return [`${where}: status ${answer.status} is not documented for ${answer.method} ${found.path} (${answer.body.slice(0, 160)})`];
    } else {
      // No operation: the app's own 404 (or the router's refusal of a malformed URL), which must
      // still be the envelope every refusal has.
      if (answer.status < 400) return [`${where}: no operation in the document answers this`];
      response = { description: 'refusal', content: { 'application/json': { schema: this.document.components!.schemas!.Error! } } };
    }

    const headerProblems = this.headerProblems(response, answer, where);
    if (headerProblems.length > 0) return headerProblems;

    const media = mediaTypeOf(answer.contentType);
    const content = response.content ?? {};
    if (Object.keys(content).length === 0) {
      return answer.body.length === 0 ? [] : [`${where}: a body (${media}) where the document promises none`];
    }
    if (!media || !content[media]) return [`${where}: media type ${media ?? '(none)'} is not documented (only ${Object.keys(content).join(', ')})`];
    // A HEAD answer has the headers of GET and no body.
    if (answer.method.toUpperCase() === 'HEAD') return [];

    let value: unknown = answer.body;
    if (media === 'application/json' || media.endsWith('+json')) {
      try {
        value = JSON.parse(answer.body);
      } catch {
        return [`${where}: the body is not JSON though the answer says ${media}`];
      }
    }
    const schema = content[media].schema;
    if (!schema) return [];
    const validate = this.validatorFor(schema);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${where}: body${e.instancePath} ${e.message ?? 'is invalid'} ${JSON.stringify(e.params)}`);
  }

  /** What is wrong with `value` by a schema of the document, in ajv's words (empty when valid). */
  schemaProblems(schema: object, value: unknown): string[] {
    const validate = this.validatorFor(schema);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '$'} ${e.message ?? 'is invalid'} ${JSON.stringify(e.params)}`);
  }

  /** Throws, naming every problem, when the answer is not as the document says. */
  assertDocumented(answer: ApiAnswer): void {
    const problems = this.problems(answer);
    if (problems.length > 0) throw new Error(`The API answered what its OpenAPI document does not describe:\n${problems.join('\n')}`);
  }

  private headerProblems(response: Response, answer: ApiAnswer, where: string): string[] {
    const problems: string[] = [];
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      const raw = answer.headers?.[name.toLowerCase()];
      if (raw === undefined || !header.schema) continue;
      const text = Array.isArray(raw) ? raw.join(', ') : typeof raw === 'number' ? String(raw) : (raw as string);
      // A header is text; one documented as an integer must be the digits of one.
      const value = header.schema.type === 'integer' && /^-?\d+$/.test(text) ? Number(text) : text;
      const validate = this.validatorFor(header.schema);
      if (!validate(value)) problems.push(`${where}: header ${name}: ${JSON.stringify(text)} ${validate.errors?.[0]?.message ?? 'is invalid'}`);
    }
    return problems;
  }

  private validatorFor(schema: object): ValidateFunction {
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(schema, validate);
    }
    return validate;
  }
}
