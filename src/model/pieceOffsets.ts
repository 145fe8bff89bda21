/**
 * Maps SentencePiece pieces back to [start, end) UTF-16 offsets in the original text, for hover lookup.
 * Normalisation (NFKC, whitespace folding) means pieces need not appear verbatim; this aligns greedily
 * and, where a piece cannot be found, gives it the characters up to the next piece that can.
 */
export function alignPieces(text: string, pieces: string[], unkPiece = '<unk>'): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  let cursor = 0;
  const pending: number[] = []; // pieces waiting for the next anchor to learn where they end
  const settlePending = (end: number) => {
    let start = cursor;
    for (const i of pending) {
      while (start < end && /\s/.test(text[start])) start++;
      spans[i] = [start, end];
      start = end;
    }
    pending.length = 0;
  };
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i];
    if (p === '</s>') {
      settlePending(text.length);
      spans[i] = [text.length, text.length];
      continue;
    }
    const surface = p.replace(/^▁+/, '');
    if (p === unkPiece || surface === '') {
      pending.push(i);
      continue;
    }
    const at = text.indexOf(surface, cursor);
    // accept the match only if what it skips could belong to pending pieces or is whitespace
    const skipped = at >= 0 ? text.slice(cursor, at) : '';
    if (at >= 0 && (pending.length > 0 || /^[\s\u200b-\u200d\ufeff]*$/.test(skipped) || skipped.length <= 2)) {
      settlePending(at);
      let start = at;
      spans[i] = [start, at + surface.length];
      cursor = at + surface.length;
      start = cursor;
      continue;
    }
    // not verbatim (normalised characters): take as many characters as the piece has code points
    let end = cursor;
    while (end < text.length && /\s/.test(text[end])) end++;
    const begin = end;
    for (let n = [...surface].length; n > 0 && end < text.length; n--) end += text.codePointAt(end)! > 0xffff ? 2 : 1;
    settlePending(begin);
    spans[i] = [begin, end];
    cursor = end;
  }
  settlePending(text.length);
  return spans;
}
