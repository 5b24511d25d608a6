import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import './i18n';
// The app's styles, in this order: the small screens' rules override the others.
import './styles/base.css';
import './styles/controls.css';
import './styles/pages.css';
import './styles/shell.css';
import './styles/settings.css';
import './styles/servers.css';
import './styles/small-screens.css';
import { App } from './App';
import { readCachedTheme } from './preferences';
import { AuthProvider } from './state/AuthProvider';
import { applyTheme } from './theme';

applyTheme(readCachedTheme() ?? 'system');

const root = document.getElementById('root');
if (!root) throw new Error('missing #root');

createRoot(root).render(
  <StrictMode>
    <BrowserRouter>
      <AuthProvider>
        <App />
      </AuthProvider>
    </BrowserRouter>
  </StrictMode>,
);
