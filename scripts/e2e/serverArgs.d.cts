export function serverArgs(common: string[], host: string, port: number, workspace: string | undefined): string[];
