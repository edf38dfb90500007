/** A failure talking to Discord or Steam (network, timeout, an unexpected answer): nothing was linked. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
}

const REQUEST_TIMEOUT_MS = 10_000;
const MAX_RESPONSE_CHARS = 64 * 1024;

/**
 * One request to a provider, answered as text. Redirects are refused (no provider endpoint we call
 * legitimately redirects), slow answers time out, and a non-2xx or oversized answer is a ProviderError.
 */
export async function requestText(url: string, init: RequestInit, what: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    throw new ProviderError(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const text = await response.text();
  if (text.length > MAX_RESPONSE_CHARS) throw new ProviderError(`${what}: answer too large`);
  if (!response.ok) throw new ProviderError(`${what}: HTTP ${response.status}`);
  return text;
}

export async function requestJson(url: string, init: RequestInit, what: string): Promise<unknown> {
  const text = await requestText(url, init, what);
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderError(`${what}: answer is not JSON`);
  }
}
