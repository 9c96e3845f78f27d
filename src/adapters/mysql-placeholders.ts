/**
 * The store's MySQL statements split at their `?` placeholders: `parts[i]` is the text before value `i`. The store
 * writes no `?` other than placeholders (values, including patterns and JSON, are always parameters).
 */
export function splitAtPlaceholders(text: string): string[] {
  return text.split('?');
}
