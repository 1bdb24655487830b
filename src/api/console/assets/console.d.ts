/** `console.js` is imported as text (wrangler.toml `[[rules]]` type Text): the browser script the console serves. */
declare const script: string;
export default script;
