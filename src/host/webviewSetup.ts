/** Options and HTML for both webviews: scripts on, local resources limited to the built webview assets and icons. */
import * as vscode from 'vscode';
import { buildWebviewHtml } from './webviewHtml';

export type WebviewApp = 'panel' | 'sidebar' | 'train';

export function webviewRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media', 'icons')];
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, enableCommandUris: false, localResourceRoots: webviewRoots(extensionUri) };
}

/** Fresh HTML (new nonce) for one of the webview apps. */
export function renderWebview(webview: vscode.Webview, extensionUri: vscode.Uri, app: WebviewApp, title: string): string {
  const asset = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', file)).toString();
  return buildWebviewHtml({
    cspSource: webview.cspSource,
    scriptUri: asset(`${app}.js`),
    styleUris: [asset('styles.css')],
    title,
    app,
  });
}
