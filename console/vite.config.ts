import { defineConfig } from 'vite';

/**
 * The admin console: built into dist/console and served by the functions app under /admin (one
 * deployment). Everything it loads is bundled: no CDN, no external fonts, no inline scripts (the
 * back end's CSP allows only its own origin).
 */
export default defineConfig({
  base: '/admin/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    // Keep images as files: the CSP's img-src need not allow data: for the console's own assets.
    assetsInlineLimit: 0,
    // Vite's modulepreload polyfill is for browsers without <link rel="modulepreload">; admins use
    // current Edge/Chrome/Firefox/Safari, and the polyfill is code we would not otherwise run.
    modulePreload: { polyfill: false },
  },
  server: {
    // `npx vite console` during development: the API comes from `npm start` on 7071.
    proxy: { '/api': 'http://127.0.0.1:7071' },
  },
});
