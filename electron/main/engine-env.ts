/**
 * The environment the engine's utility process starts with. The engine reads its configuration
 * from the environment (electron/engine/config): its data folder is the app's, and in a packaged
 * app the LoRA trainer ships as a resource (electron-builder `extraResources`) instead of living
 * in the source tree's .cache/trainer, so main names it.
 */
import { join } from 'node:path';

export interface EngineEnvironmentInput {
  env: NodeJS.ProcessEnv;
  /** app.getPath('userData'). */
  userData: string;
  /** app.isPackaged. */
  packaged: boolean;
  /** process.resourcesPath: the packaged app's resources folder. */
  resourcesPath: string;
  platform: NodeJS.Platform;
}

export function trainerResource(resourcesPath: string, platform: NodeJS.Platform): string {
  return join(resourcesPath, 'trainer', platform === 'win32' ? 'npllm-train.exe' : 'npllm-train');
}

export function engineEnvironment({ env, userData, packaged, resourcesPath, platform }: EngineEnvironmentInput): NodeJS.ProcessEnv {
  return {
    ...env,
    NPLLM_HOME: userData,
    // A trainer named by the user wins; a packaged app otherwise uses the one it ships.
    ...(packaged && !env['NPLLM_TRAINER'] ? { NPLLM_TRAINER: trainerResource(resourcesPath, platform) } : {}),
  };
}
