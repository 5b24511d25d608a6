import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The Papo server listens on 127.0.0.1:8080 by default. During `npm run dev`
// every /api request (including WebSocket upgrades) is forwarded to it.
const apiProxy = {
  '/api': {
    target: 'http://127.0.0.1:8080',
    changeOrigin: false,
    ws: true,
  },
};

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: apiProxy,
  },
  preview: {
    proxy: apiProxy,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
