import pngjs from "pngjs";
import { ValidationError } from "../core/errors.js";
import { mnistField, resample, type FieldStyle, type GrayImage } from "../data/centre-digit.js";
import { DataFileError } from "../data/errors.js";

// The layout is shared with the dashboard's drawing pad, which runs it in the browser.
export { resample, type FieldStyle, type GrayImage };

/** An image made ready for a model, and what was done to it (for the user). */
export interface ModelInput {
  readonly input: Float64Array;
  readonly steps: string[];
}

/**
 * Decodes a PNG (grayscale, RGB or palette, with or without alpha, 8 or 16 bits) to brightness:
 * 0.299 R + 0.587 G + 0.114 B, with transparent pixels composited over white (as a viewer shows them).
 */
export function decodePng(bytes: Uint8Array, file: string): GrayImage {
  let png: { width: number; height: number; data: Uint8Array };
  try {
    png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  } catch (err) {
    throw new DataFileError(file, `${file}: not a readable PNG: ${(err as Error).message}`, { cause: err });
  }
  const { width, height, data } = png; // RGBA, 8 bits per channel
  const pixels = new Float64Array(width * height);
  for (let i = 0; i < pixels.length; i++) {
    const [r, g, b, a] = [data[4 * i]!, data[4 * i + 1]!, data[4 * i + 2]!, data[4 * i + 3]!];
    const gray = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    const alpha = a / 255;
    pixels[i] = gray * alpha + (1 - alpha);
  }
  return { width, height, pixels };
}

/** Brightness range below which an image counts as one colour: about 5 of 256 grey levels. */
const INK_CONTRAST = 0.02;

/** True when the image has no ink: all one colour (every pixel within {@link INK_CONTRAST} of the others). */
export function isBlank(image: GrayImage): boolean {
  let min = Infinity;
  let max = -Infinity;
  for (const v of image.pixels) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return max - min < INK_CONTRAST;
}

/**
 * The input vector of a model with `inputs` inputs, from an image:
 *  - 784 inputs (28 × 28, MNIST-style): {@link mnistField} (light ink on black, laid out as `style` says).
 *  - other input counts: an image of exactly `inputs` pixels is used as it is; otherwise, when
 *    `inputs` is a square s², the image is resized to s × s.
 */
export function toModelInput(image: GrayImage, inputs: number, style: FieldStyle, name: string): ModelInput {
  const { width, height } = image;
  const steps: string[] = [];
  if (inputs === 28 * 28) return { input: mnistField(image, style, steps), steps };
  if (width * height === inputs) return { input: image.pixels, steps };
  const side = Math.round(Math.sqrt(inputs));
  if (side * side !== inputs) {
    throw new ValidationError(`${name}: the image is ${width}×${height} = ${width * height} pixels, but the model expects ${inputs} inputs`);
  }
  steps.push(`resized ${width}×${height} → ${side}×${side}`);
  return { input: resample(image, { x: 0, y: 0, w: width, h: height }, side, side), steps };
}
