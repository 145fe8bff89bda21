/**
 * Text from model files (tensor names, pickle globals, vocabulary pieces, folder names) ends up in error messages
 * shown on a terminal and in VS Code notifications. A file can carry terminal escape sequences (`\x1b]0;…\x07`
 * retitles a terminal, `\x1b[2J` clears it), bidirectional overrides that reorder what is read, or invisible
 * characters. Every message built from file contents goes through `escapeControls`, which shows such characters
 * as `\xNN` / `\uNNNN` so the text is inert and what it contains stays visible.
 */

/**
 * C0 controls, DEL, C1 controls, soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width and
 * bidirectional marks, line/paragraph separators, bidi embeddings/overrides/isolates, invisible operators,
 * the BOM / zero-width no-break space, interlinear annotations, and lone surrogates (which no terminal shows).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `s` with every control or invisible character written as an escape (`\x1b`, `\ufeff`, `\u202e`). */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * What went wrong in a `JSON.parse` of file contents, without the file contents: V8's messages quote the start of
 * the text (`Unexpected token 'r', "root:x:0:0"... is not valid JSON`), which for a symlink to another file would
 * show that file. Keeps the kind of error and the position when V8 gives one.
 */
export function jsonSyntaxProblem(e: unknown, text: string): string {
  const message = e instanceof Error ? e.message : String(e);
  const at = /at position (\d+)/.exec(message);
  let where = '';
  if (at) {
    const pos = Number(at[1]);
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    where = ` at line ${line}, column ${pos - before.lastIndexOf('\n')}`;
  }
  let kind: string;
  if (/^Unexpected end of JSON input/.test(message) || /Unterminated/.test(message)) kind = 'it ends too early';
  else if (/^Unexpected token/.test(message) || /^Unexpected non-whitespace/.test(message)) kind = 'unexpected character';
  else if (/^Expected/.test(message)) kind = message.replace(/ in JSON at position \d+.*$/s, '').replace(/"/g, '').toLowerCase();
  else if (/^Bad (control|escaped|Unicode)/.test(message)) kind = message.replace(/ in JSON at position \d+.*$/s, '').toLowerCase();
  else kind = 'syntax error';
  return escapeControls(`${kind}${where}`);
}
