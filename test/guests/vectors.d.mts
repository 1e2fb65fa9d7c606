/** The escape battery's vectors (vectors.mjs). */
export interface Vector {
  name: string;
  source: string;
  expect?: string[];
  profiles?: ("html" | "node")[];
  paths?: ("cli" | "vm" | "ses")[];
  capacity?: { timers?: number };
}
export const VECTORS: Vector[];
