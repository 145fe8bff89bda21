/** Entry of the side-view bundle (esbuild, platform browser, iife). */
import '../shared/litNonce';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { getVsCodeApi } from '../shared/vscodeApi';
import { startSidebar, type PersistedSidebarState } from './app';

startSidebar(document, getVsCodeApi<PersistedSidebarState>());
