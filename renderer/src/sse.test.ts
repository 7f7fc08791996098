import { describe, expect, it } from 'vitest';
import { SseParser } from './sse.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('SseParser', () => {
  it('emits the data of each complete event', () => {
    const parser = new SseParser();
    expect(parser.push(bytes('data: {"type":"token","text":"a"}\n\ndata: {"type":"token","text":"b"}\n\n'))).toEqual([
      '{"type":"token","text":"a"}',
      '{"type":"token","text":"b"}',
    ]);
  });

  it('waits for the blank line when an event is split across chunks', () => {
    const parser = new SseParser();
    expect(parser.push(bytes('data: {"type":'))).toEqual([]);
    expect(parser.push(bytes('"token"}\n'))).toEqual([]);
    expect(parser.push(bytes('\n'))).toEqual(['{"type":"token"}']);
  });

  it('keeps a UTF-8 character split between chunks intact', () => {
    const parser = new SseParser();
    const encoded = bytes('data: "é→🙂"\n\n');
    const events = [...encoded].flatMap((byte) => parser.push(Uint8Array.of(byte)));
    expect(events).toEqual(['"é→🙂"']);
  });

  it('accepts CRLF and CR line endings, even with CRLF split across chunks', () => {
    const parser = new SseParser();
    expect(parser.push(bytes('data: 1\r'))).toEqual([]);
    expect(parser.push(bytes('\n\r\ndata: 2\r\r'))).toEqual(['1']);
    // The last \r could still be half of a \r\n: the event completes with the next bytes or the end.
    expect(parser.push(bytes('data: 3\n\n'))).toEqual(['2', '3']);
  });

  it('joins multi-line data and ignores comments and other fields', () => {
    const parser = new SseParser();
    expect(parser.push(bytes(': keep-alive\n\nevent: message\nid: 7\ndata: first\ndata:second\n\n'))).toEqual(['first\nsecond']);
  });

  it('flushes an unterminated last event at the end of the stream', () => {
    const parser = new SseParser();
    expect(parser.push(bytes('data: last'))).toEqual([]);
    expect(parser.end()).toEqual(['last']);
  });
});
