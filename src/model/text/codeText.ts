/**
 * The prose inside a code selection: its comments and string literals, with offsets into the selection
 * kept. A translation model fed `{ [ = *` sees unknown tokens and produces nonsense, so in code only the
 * parts written for people are explained. Pure: the VS Code languageId comes in as a string.
 */

export interface ProseSegment {
  /** Offset of the segment's first character in the selection. */
  start: number;
  /** Offset just past its last character. */
  end: number;
  /**
   * The selection's characters from start to end with comment markers (`//`, `#`, a leading `*`) blanked
   * to spaces: same length as end − start, so offsets inside it are offsets into the selection.
   */
  text: string;
  kind: 'comment' | 'string' | 'text';
}

export type CodeTextMode = 'commentsAndStrings' | 'everything';

interface Syntax {
  /** Line-comment openers. */
  line: string[];
  /** Block-comment [open, close] pairs. */
  block: Array<[string, string]>;
  /** String delimiters, longest first (a triple quote before a single one). */
  strings: string[];
  /** Backslash escapes inside strings. */
  escapes: boolean;
}

const C_LIKE: Syntax = { line: ['//'], block: [['/*', '*/']], strings: ['"', "'"], escapes: true };
const JS_LIKE: Syntax = { ...C_LIKE, strings: ['`', '"', "'"] };
const HASH: Syntax = { line: ['#'], block: [], strings: ['"', "'"], escapes: true };
const PYTHON: Syntax = { line: ['#'], block: [], strings: ['"""', "'''", '"', "'"], escapes: true };
const SQL: Syntax = { line: ['--'], block: [['/*', '*/']], strings: ["'", '"'], escapes: false };
const LUA: Syntax = { line: ['--'], block: [['--[[', ']]']], strings: ['"', "'"], escapes: true };
const MARKUP: Syntax = { line: [], block: [['<!--', '-->']], strings: [], escapes: false };
const LISP: Syntax = { line: [';'], block: [], strings: ['"'], escapes: true };
const TEX: Syntax = { line: ['%'], block: [], strings: [], escapes: false };

/** VS Code languageIds and the comment/string syntax used to find their prose. */
const SYNTAX: Record<string, Syntax> = {
  typescript: JS_LIKE, typescriptreact: JS_LIKE, javascript: JS_LIKE, javascriptreact: JS_LIKE, vue: JS_LIKE, svelte: JS_LIKE,
  c: C_LIKE, cpp: C_LIKE, csharp: C_LIKE, java: C_LIKE, kotlin: { ...C_LIKE, strings: ['"""', '"', "'"] }, scala: C_LIKE,
  go: { ...C_LIKE, strings: ['`', '"', "'"] }, rust: C_LIKE, swift: { ...C_LIKE, strings: ['"""', '"'] }, dart: JS_LIKE,
  php: { ...C_LIKE, line: ['//', '#'] }, 'objective-c': C_LIKE, 'objective-cpp': C_LIKE, css: { ...C_LIKE, line: [] },
  scss: C_LIKE, less: C_LIKE, jsonc: C_LIKE, json: C_LIKE, groovy: C_LIKE, fsharp: { ...C_LIKE, block: [['(*', '*)']] },
  python: PYTHON, shellscript: HASH, ruby: HASH, perl: HASH, r: HASH, yaml: HASH, toml: HASH, dockerfile: HASH,
  makefile: HASH, powershell: { ...HASH, block: [['<#', '#>']] }, elixir: PYTHON, julia: PYTHON, coffeescript: PYTHON,
  properties: HASH, ini: { ...HASH, line: [';', '#'] }, sql: SQL, lua: LUA, haskell: { ...SQL, block: [['{-', '-}']], strings: ['"'] },
  html: MARKUP, xml: MARKUP, svg: MARKUP, clojure: LISP, scheme: LISP, lisp: LISP, latex: TEX, tex: TEX, matlab: TEX,
};

/** True when `languageId` is a programming/markup language whose prose is in comments and strings. */
export function isCodeLanguage(languageId: string): boolean {
  return Object.prototype.hasOwnProperty.call(SYNTAX, languageId) && languageId !== 'latex' && languageId !== 'tex';
}

/** A string literal worth explaining: at least two words, or one word ending a sentence ("Done."). */
const PROSE_STRING = /\p{L}[\p{L}'’-]*[\s]+\p{L}|\p{L}{2,}[.!?]$/u;

/** Blanks comment decoration at line starts inside a comment body (` * `, `// `, `# `) to spaces. */
function blankDecoration(body: string, syntax: Syntax): string {
  const markers = [...syntax.line, '*'].map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`(^|\\n)([ \\t]*)((?:${markers.join('|')})+)`, 'g');
  return body.replace(re, (_m, nl: string, ws: string, marks: string) => nl + ws + ' '.repeat(marks.length));
}

/**
 * The comments and prose string literals of `text` for VS Code language `languageId`. Consecutive line
 * comments (one per line) form one segment, so a comment wrapped over lines stays one paragraph. For
 * languages that are not code (plain text, Markdown, unknown ids), or with mode 'everything', the whole
 * text is one 'text' segment.
 */
export function proseSegments(text: string, languageId: string, mode: CodeTextMode = 'commentsAndStrings'): ProseSegment[] {
  const syntax = SYNTAX[languageId];
  if (mode === 'everything' || !syntax || !isCodeLanguage(languageId)) {
    return text.trim() ? [{ start: 0, end: text.length, text, kind: 'text' }] : [];
  }
  const out: ProseSegment[] = [];
  let lastLineComment = -1;
  const push = (start: number, end: number, kind: ProseSegment['kind'], body: string, markerStart = start) => {
    if (!/[\p{L}\p{N}]/u.test(body)) return;
    const last = out[out.length - 1];
    // A line comment right under another one continues it (the marker between them becomes spaces).
    const continues = kind === 'comment' && last && lastLineComment === out.length - 1;
    if (continues && /^[ \t]*\r?\n[ \t]*$/.test(text.slice(last.end, markerStart))) {
      last.text += ' '.repeat(start - last.end) + body;
      last.end = end;
      return;
    }
    out.push({ start, end, text: body, kind });
  };
  let i = 0;
  while (i < text.length) {
    const block = syntax.block.find(([open]) => text.startsWith(open, i));
    if (block) {
      const close = text.indexOf(block[1], i + block[0].length);
      const end = close < 0 ? text.length : close;
      const bodyStart = i + block[0].length;
      push(bodyStart, end, 'comment', blankDecoration(text.slice(bodyStart, end), syntax));
      i = close < 0 ? text.length : close + block[1].length;
      continue;
    }
    const line = syntax.line.find((open) => text.startsWith(open, i));
    if (line) {
      let end = text.indexOf('\n', i);
      if (end < 0) end = text.length;
      if (text[end - 1] === '\r') end--;
      let bodyStart = i + line.length;
      // `///`, `##`, `//!` are still comment markers.
      while (bodyStart < end && (text[bodyStart] === line[0] || text[bodyStart] === '!')) bodyStart++;
      push(bodyStart, end, 'comment', text.slice(bodyStart, end), i);
      if (/[\p{L}\p{N}]/u.test(text.slice(bodyStart, end))) lastLineComment = out.length - 1;
      i = end;
      continue;
    }
    const quote = syntax.strings.find((q) => text.startsWith(q, i));
    if (quote) {
      const bodyStart = i + quote.length;
      let j = bodyStart;
      while (j < text.length && !text.startsWith(quote, j)) {
        if (syntax.escapes && text[j] === '\\') j++;
        else if (quote.length === 1 && quote !== '`' && text[j] === '\n') break; // unterminated on this line
        j++;
      }
      const end = Math.min(j, text.length);
      const body = text.slice(bodyStart, end);
      if (PROSE_STRING.test(body.trim())) push(bodyStart, end, 'string', body);
      i = text.startsWith(quote, end) ? end + quote.length : end;
      continue;
    }
    i++;
  }
  return out;
}
