/** The local embedding models npllm can run; light to import (config validates against it). */
import { miniLm } from './minilm-files.js';

export const embedderModels = [miniLm.id] as const;
export type EmbedderModel = (typeof embedderModels)[number];
