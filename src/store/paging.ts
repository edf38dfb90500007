/** Normalises an offset/limit pair from any caller: whole numbers, offset ≥ 0, 1 ≤ limit ≤ max. */
export function clampPage(page: { offset: number; limit: number }, max: number): { offset: number; limit: number } {
  return {
    offset: Math.max(0, Math.trunc(page.offset) || 0),
    limit: Math.min(max, Math.max(1, Math.trunc(page.limit) || 1)),
  };
}
