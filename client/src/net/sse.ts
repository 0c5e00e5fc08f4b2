// A minimal Server-Sent Events parser over a text stream (fetch body), for streams that need an Authorization header.
export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

export async function* parseSse(reader: ReadableStreamDefaultReader<string>): AsyncGenerator<SseMessage> {
  let buf = '';
  let event = 'message';
  let data: string[] = [];
  let id: string | undefined;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let nl = buf.search(/\r\n|\n|\r/);
    while (nl !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(buf[nl] === '\r' && buf[nl + 1] === '\n' ? nl + 2 : nl + 1);
      if (line === '') {
        if (data.length) yield { event, data: data.join('\n'), ...(id !== undefined ? { id } : {}) };
        event = 'message';
        data = [];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let val = colon === -1 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'event') event = val;
        else if (field === 'data') data.push(val);
        else if (field === 'id') id = val;
      }
      nl = buf.search(/\r\n|\n|\r/);
    }
  }
}
