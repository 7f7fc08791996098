/** Vite's import.meta.glob, as the renderer's tests use it (the renderer is typed without vite/client). */
interface ImportMeta {
  glob<T = unknown>(pattern: string | string[], options: { query?: string; import?: string; eager: true }): Record<string, T>;
}
