/** Stylesheets under src/api/console/assets are imported as text (wrangler.toml `[[rules]]` type Text). */
declare module "*.css" {
  const text: string;
  export default text;
}
