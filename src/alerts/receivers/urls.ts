/** Absolute http:// or https:// URL (the config checks this too; receivers built by hand do not pass it). */
export function isHttpUrlText(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname.length > 0;
}
