import { buildRetrievalSet, seededRandom } from './rag-queries.js';
const [dest, ...sources] = process.argv.slice(2);
const t = performance.now();
const set = await buildRetrievalSet(sources, dest!, { maxQueries: 300, minWords: 8, random: seededRandom(1) });
console.log(JSON.stringify({ ms: performance.now() - t, candidates: set.candidates, queries: set.queries.length, sourceFiles: set.sourceFiles, stripped: set.strippedFiles, multi: set.queries.filter((q) => q.targets.length > 1).length }));
for (const q of set.queries.slice(0, 6)) console.log(q.text, '=>', JSON.stringify(q.targets));
