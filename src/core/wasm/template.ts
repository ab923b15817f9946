/**
 * Expands kernel.wat's template directives before it is assembled, so each repeated block is
 * written once:
 *
 *   ;; @unroll 8 4:once 1      the lines up to `;; @end`, once per width W (in this order); the
 *   …                          part opens `({loop} $next` and ends with `{again}`: `loop` and
 *   ;; @end                    `(br $next)`, or with `:once` (it runs at most once) `block` and nothing
 *   @lane <line>               inside @unroll: the line once per lane i = 0 … W−1 (consecutive
 *                              @lane lines are repeated together, lane by lane)
 *   ;; @if NAME … ;; @endif    the lines between, only if the constant NAME is not 0 (one kernel's part)
 *   {expr}                     a number: names (W, i, and the constants given, e.g. the ABI's
 *                              offsets) joined by + and *; or the words loop and again; or a
 *                              constant whose value is text (e.g. {f}: the element type)
 */
export function expandTemplate(source: string, constants: Readonly<Record<string, number | string>>): string {
  const lines = selected(source.split("\n"), constants);
  const out: string[] = [];
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const unroll = /^\s*;; @unroll (.+)$/.exec(line);
    if (!unroll) {
      if (/^\s*(;; @end|@lane )/.test(line)) throw new Error(`kernel.wat:${n + 1}: ${line.trim()} outside an @unroll`);
      out.push(fill(line, constants, n));
      continue;
    }
    const start = n;
    const body: string[] = [];
    for (n++; n < lines.length && !/^\s*;; @end\s*$/.test(lines[n]!); n++) body.push(lines[n]!);
    if (n === lines.length) throw new Error(`kernel.wat:${start + 1}: @unroll without ;; @end`);
    for (const width of unroll[1]!.trim().split(/\s+/)) {
      const [w, mode] = width.split(":");
      const W = Number(w);
      if (!Number.isInteger(W) || W < 1 || (mode !== undefined && mode !== "once")) throw new Error(`kernel.wat:${start + 1}: bad width ${width}`);
      const once = mode === "once";
      const words = { loop: once ? "block" : "loop", again: once ? "" : "(br $next)" };
      const scope = { ...constants, W };
      for (let k = 0; k < body.length; k++) {
        if (!isLane(body[k]!)) {
          out.push(fill(body[k]!, scope, start + 1 + k, words));
          continue;
        }
        let end = k;
        while (end < body.length && isLane(body[end]!)) end++;
        for (let i = 0; i < W; i++) {
          for (let m = k; m < end; m++) out.push(fill(body[m]!.replace("@lane ", ""), { ...scope, i }, start + 1 + m));
        }
        k = end - 1;
      }
    }
  }
  return out.join("\n");
}

const isLane = (line: string): boolean => /^\s*@lane /.test(line);

/**
 * The lines outside `@if NAME` … `@endif` parts whose NAME is 0, the others without their
 * directives; a dropped line stays as an empty one, so errors still name kernel.wat's own lines.
 */
function selected(lines: readonly string[], constants: Readonly<Record<string, number | string>>): string[] {
  const open: { name: string; line: number; keep: boolean }[] = [];
  const out = lines.map((line, n) => {
    const start = /^\s*;; @if (\w+)\s*$/.exec(line);
    if (start) {
      const value = constants[start[1]!];
      if (typeof value !== "number") throw new Error(`kernel.wat:${n + 1}: @if needs a number constant, "${start[1]}" is not one`);
      open.push({ name: start[1]!, line: n + 1, keep: value !== 0 });
      return "";
    }
    if (/^\s*;; @endif\s*$/.test(line)) {
      if (!open.pop()) throw new Error(`kernel.wat:${n + 1}: @endif without @if`);
      return "";
    }
    return open.every((part) => part.keep) ? line : "";
  });
  if (open.length) throw new Error(`kernel.wat:${open.at(-1)!.line}: @if ${open.at(-1)!.name} without ;; @endif`);
  return out;
}

/** Replaces each {expr} of `line` (1-based line `n + 1` in errors). */
function fill(line: string, scope: Readonly<Record<string, number | string>>, n: number, words: Readonly<Record<string, string>> = {}): string {
  return line.replace(/\{([^{}]*)\}/g, (_, expr: string) => {
    const text = expr.trim();
    if (text in words) return words[text]!;
    if (typeof scope[text] === "string") return scope[text];
    const value = text.split("+").reduce((sum, term) => sum + term.split("*").reduce((product, factor) => product * valueOf(factor.trim()), 1), 0);
    return String(value);
    function valueOf(token: string): number {
      if (/^\d+$/.test(token)) return Number(token);
      const v = scope[token];
      if (typeof v !== "number") throw new Error(`kernel.wat:${n + 1}: unknown name "${token}" in {${expr}}`);
      return v;
    }
  });
}
