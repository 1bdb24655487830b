/**
 * A small SQL scanner for the platform-limits layer: the widest function call of a statement (D1 refuses more than
 * 32 arguments per SQL function). It skips string literals, quoted identifiers and comments, and tells a function's
 * parentheses from the other kinds (`IN (…)`, `VALUES (…)`, column lists) by the word in front of them.
 */

export interface FunctionCall {
  /** The function's name, lower-cased. */
  name: string;
  args: number;
}

/** Words that can stand before a parenthesis without being a function call. */
const NOT_FUNCTIONS = new Set([
  "all",
  "and",
  "any",
  "as",
  "between",
  "by",
  "case",
  "check",
  "conflict",
  "default",
  "distinct",
  "do",
  "else",
  "except",
  "exists",
  "filter",
  "from",
  "in",
  "intersect",
  "is",
  "join",
  "key",
  "like",
  "not",
  "on",
  "or",
  "over",
  "primary",
  "recursive",
  "returning",
  "select",
  "set",
  "then",
  "union",
  "unique",
  "using",
  "values",
  "when",
  "where",
  "with",
]);

/** Words after which `name (…)` is a table or view with a column list, not a call. */
const BEFORE_COLUMN_LIST = new Set(["into", "table", "exists", "references", "view", "with", "recursive"]);

interface Frame {
  /** The function's name, or null for a parenthesis that is not a call. */
  name: string | null;
  commas: number;
  empty: boolean;
}

const isWordStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isWordPart = (c: number) => isWordStart(c) || (c >= 48 && c <= 57) || c === 36;
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 12;

/** The function call of `sql` with the most arguments (the first of equals), or null when `sql` calls none. */
export function widestFunctionCall(sql: string): FunctionCall | null {
  const stack: Frame[] = [];
  let widest: FunctionCall | null = null;
  // The last word read and the word before it, while nothing but spaces followed them.
  let word: string | null = null;
  let wordBefore: string | null = null;
  let i = 0;
  const n = sql.length;
  const markContent = () => {
    const top = stack[stack.length - 1];
    if (top) top.empty = false;
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    // Comments: `-- …` to the end of the line, `/* … */`.
    if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const end = sql.indexOf("\n", i);
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    // A closing parenthesis is not content of the call it closes.
    if (c !== 41) markContent();
    if (isWordStart(c)) {
      let end = i + 1;
      while (end < n && isWordPart(sql.charCodeAt(end))) end++;
      wordBefore = word;
      word = sql.slice(i, end).toLowerCase();
      i = end;
      continue;
    }
    // Quoted: 'string', "identifier", `identifier` (doubled quote escapes), [identifier].
    if (c === 39 || c === 34 || c === 96 || c === 91) {
      const close = c === 91 ? "]" : sql[i]!;
      let end = i + 1;
      for (;;) {
        const at = sql.indexOf(close, end);
        if (at < 0) {
          end = n;
          break;
        }
        if (close !== "]" && sql[at + 1] === close) {
          end = at + 2;
          continue;
        }
        end = at + 1;
        break;
      }
      i = end;
      wordBefore = word = null;
      continue;
    }
    if (c === 40) {
      const isCall = word !== null && !NOT_FUNCTIONS.has(word) && !(wordBefore && BEFORE_COLUMN_LIST.has(wordBefore));
      stack.push({ name: isCall ? word : null, commas: 0, empty: true });
    } else if (c === 41) {
      const frame = stack.pop();
      if (frame?.name) {
        const args = frame.empty ? 0 : frame.commas + 1;
        if (!widest || args > widest.args) widest = { name: frame.name, args };
      }
    } else if (c === 44) {
      const top = stack[stack.length - 1];
      if (top) top.commas++;
    }
    wordBefore = word = null;
    i++;
  }
  return widest;
}
