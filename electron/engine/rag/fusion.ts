/**
 * Reciprocal rank fusion (Cormack, Clarke & Büttcher, 2009): score(d) = Σ 1 / (k + rank(d)) over
 * the ranked lists d appears in. It needs no score calibration between cosine distances and
 * ts_rank, and k = 60 is the paper's value, robust across collections.
 */
export function reciprocalRankFusion(lists: readonly (readonly number[])[], k = 60, weights: readonly number[] = []): { id: number; score: number }[] {
  const scores = new Map<number, number>();
  lists.forEach((list, listIndex) => {
    const weight = weights[listIndex] ?? 1;
    list.forEach((id, index) => scores.set(id, (scores.get(id) ?? 0) + weight / (k + index + 1)));
  });
  return [...scores.entries()].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score || a.id - b.id);
}
