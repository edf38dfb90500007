import type { z } from 'zod';
import { ApiError, type FieldErrors } from './http-errors.js';

// The API's refusals of its input, in the shape its error envelope carries them.

export function notFound(message: string): ApiError {
  return new ApiError(404, message);
}

/** 422 naming the field: `message` is "<field>: <problem>" for the first problem. */
export function validationError(errors: FieldErrors): ApiError {
  const [field, problems] = Object.entries(errors)[0] ?? ['body', ['is invalid']];
  return new ApiError(422, `${field}: ${problems[0] ?? 'is invalid'}`, errors);
}

export function fieldError(field: string, problem: string): ApiError {
  return validationError({ [field]: [problem] });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  // A message the schema wrote itself is already in the API's words; zod's defaults are not.
  if (!/^(Invalid|Too (big|small)|Unrecognized)/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return issue.expected === 'object' ? 'must be a JSON object' : `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      if (issue.origin === 'array') return `must have at least ${issue.minimum} item${Number(issue.minimum) === 1 ? '' : 's'}`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return 'is not in the expected format';
    default:
      return issue.message;
  }
}

/** Collects zod issues per field (dotted path; `body` / `query` for the whole input). */
export function fieldErrorsOf(error: z.ZodError, whole: string): FieldErrors {
  // No prototype: a field named `__proto__` or `constructor` (from a hostile query) is a key like any other.
  const errors = Object.create(null) as FieldErrors;
  const add = (field: string, problem: string) => (errors[field] ??= []).push(problem);
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) add([...issue.path, key].map(String).join('.'), 'is not allowed');
      continue;
    }
    add(issue.path.length === 0 ? whole : issue.path.map(String).join('.'), describeIssue(issue));
  }
  return errors;
}
