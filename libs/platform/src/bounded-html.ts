import { Parser, type Handler } from 'htmlparser2';

/** How much of an HTML body is parsed at all. */
export interface HtmlLimits {
  /** Characters read; the rest is left out. */
  maxChars: number;
  /** Open elements at once; parsing stops before the first element nested deeper. */
  maxDepth: number;
}

/**
 * 1 MiB of characters (mail bodies become at most 256 KiB of text, and the desktop shows at most
 * 1 MiB of HTML) and 512 open elements, the depth at which browsers' HTML parsers stop nesting too.
 */
export const defaultHtmlLimits: Readonly<HtmlLimits> = { maxChars: 1_048_576, maxDepth: 512 };

/** What `parseBoundedHtml` read. */
export interface BoundedParse {
  /** Characters of the input that were parsed: a prefix of the input cut at a tag's start. */
  parsedChars: number;
  /** True when part of the input was left out (longer than `maxChars`, or nested deeper than `maxDepth`). */
  truncated: boolean;
}

/**
 * Runs htmlparser2 over `html` with `handler`, within `limits`. htmlparser2's tokenizer is linear,
 * but each open or close tag costs up to the number of open elements (its element stack is searched
 * and shifted), so unbounded nesting — hostile mail opens tens of thousands of elements — makes it
 * quadratic. Bounding the depth keeps it linear in the input: parsing stops (and the handler sees
 * no `onend`) before the first element that would be nested deeper than `maxDepth`.
 */
export function parseBoundedHtml(
  html: string,
  handler: Partial<Handler>,
  limits: Readonly<HtmlLimits> = defaultHtmlLimits,
): BoundedParse {
  const input = html.length > limits.maxChars ? html.slice(0, limits.maxChars) : html;
  let depth = 0;
  let stoppedAt: number | undefined;
  const parser: Parser = new Parser(
    {
      ...handler,
      onopentagname(name) {
        if (stoppedAt !== undefined) return;
        depth += 1;
        if (depth > limits.maxDepth) {
          stoppedAt = parser.startIndex;
          parser.pause();
          return;
        }
        handler.onopentagname?.(name);
      },
      onopentag(name, attributes, isImplied) {
        if (stoppedAt === undefined) handler.onopentag?.(name, attributes, isImplied);
      },
      onclosetag(name, isImplied) {
        if (stoppedAt !== undefined) return;
        depth -= 1;
        handler.onclosetag?.(name, isImplied);
      },
      ontext(text) {
        if (stoppedAt === undefined) handler.ontext?.(text);
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(input);
  if (stoppedAt === undefined) {
    parser.end();
    return { parsedChars: input.length, truncated: input.length < html.length };
  }
  return { parsedChars: stoppedAt, truncated: true };
}

/**
 * The longest prefix of `html` within `limits` (cut before the first element nested too deep), for
 * a library that parses HTML itself (sanitize-html, over htmlparser2) to be given bounded input.
 */
export function boundHtml(html: string, limits: Readonly<HtmlLimits> = defaultHtmlLimits): { html: string; truncated: boolean } {
  const { parsedChars, truncated } = parseBoundedHtml(html, {}, limits);
  return { html: truncated ? html.slice(0, parsedChars) : html, truncated };
}
