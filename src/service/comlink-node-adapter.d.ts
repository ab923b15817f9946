// comlink ships its Node adapter as dist/esm/node-adapter.mjs with a .d.ts beside it, which NodeNext
// resolution does not pick up for a .mjs file; this repeats that .d.ts's one declaration.
declare module "comlink/dist/esm/node-adapter.mjs" {
  import type { Endpoint } from "comlink";
  export interface NodeEndpoint {
    postMessage(message: unknown, transfer?: readonly any[]): void;
    on(type: string, listener: (...args: any[]) => void): void;
    off(type: string, listener: (...args: any[]) => void): void;
    start?: () => void;
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
