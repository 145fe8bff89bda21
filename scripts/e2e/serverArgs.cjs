// The code-server flags shared by `npm start` and the end-to-end harness: loopback only (webviews need a secure
// context), no login, no telemetry or update checks, no trust prompt or welcome page.
'use strict';

/** @param {string[]} common @param {string} host @param {number} port @param {string | undefined} workspace */
exports.serverArgs = function serverArgs(common, host, port, workspace) {
  return [
    ...common,
    '--bind-addr', `${host}:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    ...(workspace ? [workspace] : []),
  ];
};
