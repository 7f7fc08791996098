/**
 * Incremental server-sent-events parser: network chunks split lines (and UTF-8 characters)
 * anywhere, so bytes are decoded as a stream and only complete events are emitted.
 */
export class SseParser {
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private data: string[] = [];

  /** Feeds bytes; returns the `data` of every event completed by them. */
  push(chunk: Uint8Array): string[] {
    return this.parse(this.decoder.decode(chunk, { stream: true }));
  }

  /** Call at end of stream: flushes a last event whose blank line never came. */
  end(): string[] {
    const events = this.parse(`${this.decoder.decode()}\n\n`);
    this.buffer = '';
    return events;
  }

  private parse(text: string): string[] {
    this.buffer += text;
    const events: string[] = [];
    for (let newline = this.buffer.search(/\r\n|\r|\n/); newline !== -1; newline = this.buffer.search(/\r\n|\r|\n/)) {
      // A lone \r at the end of a chunk may be the first half of \r\n: wait for the next chunk.
      if (this.buffer[newline] === '\r' && newline === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + (this.buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (this.data.length) events.push(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
      // Other fields (event:, id:, retry:) and comments (":") carry nothing npllm uses.
    }
    return events;
  }
}
