/**
 * The global shortcut of the quick question. The accelerator is a setting (ui.shortcut, saved by
 * the settings screen in the engine's settings.yaml); main registers it at start and again when
 * the settings change, and keeps the previous one when a new one cannot be registered.
 */
export interface GlobalShortcutLike {
  register(accelerator: string, callback: () => void): boolean;
  unregister(accelerator: string): void;
}

export class QuickShortcut {
  private current: string | null = null;

  constructor(
    private readonly shortcuts: GlobalShortcutLike,
    private readonly onPress: () => void,
    private readonly warn: (message: string) => void = (message) => process.stderr.write(`[npllm] ${message}\n`),
  ) {}

  get accelerator(): string | null {
    return this.current;
  }

  /** Registers `accelerator` instead of the current one; false (and the old one kept) when the system refuses it. */
  set(accelerator: string): boolean {
    if (accelerator === this.current) return true;
    let registered = false;
    try {
      registered = this.shortcuts.register(accelerator, this.onPress);
    } catch (error) {
      this.warn(`the shortcut "${accelerator}" is not a valid accelerator: ${String(error)}`);
      return false;
    }
    if (!registered) {
      this.warn(`the shortcut "${accelerator}" could not be registered (another application may own it); keeping ${this.current ?? 'none'}`);
      return false;
    }
    if (this.current) this.shortcuts.unregister(this.current);
    this.current = accelerator;
    return true;
  }

  dispose(): void {
    if (this.current) this.shortcuts.unregister(this.current);
    this.current = null;
  }
}
