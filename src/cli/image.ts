import pngjs from "pngjs";
import { ValidationError } from "../core/errors.js";
import { DataFileError } from "../data/errors.js";

/** A grayscale image: width × height brightness values in [0, 1], row-major (0 = black). */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Float64Array;
}

/** How a 28 × 28 model's input is laid out in its field, as in the data it was trained on. */
export type FieldStyle =
  /** MNIST digits: the ink's bounding box scaled to fit 20 × 20, centred by its centre of mass. */
  | "digit"
  /** Fashion-MNIST: the whole picture scaled to fit 28 × 28, centred. */
  | "fit";

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
 *  - 784 inputs (28 × 28, MNIST-style): light ink on a dark background, as in MNIST. An image whose
 *    border is mostly light (mean border brightness > 0.5) is inverted first. A 28 × 28 image is then
 *    used as it is; any other size is laid out as `style` says.
 *  - other input counts: an image of exactly `inputs` pixels is used as it is; otherwise, when
 *    `inputs` is a square s², the image is resized to s × s.
 */
export function toModelInput(image: GrayImage, inputs: number, style: FieldStyle, name: string): ModelInput {
  const { width, height } = image;
  const steps: string[] = [];
  if (inputs === 28 * 28) {
    let img = image;
    if (borderMean(image) > 0.5) {
      img = { ...image, pixels: image.pixels.map((v) => 1 - v) };
      steps.push("inverted (light background; the model expects light ink on black)");
    }
    if (width === 28 && height === 28) return { input: img.pixels, steps };
    const field = style === "digit" ? digitField(img, steps) : fitField(img, 28, steps);
    return { input: field, steps };
  }
  if (width * height === inputs) return { input: image.pixels, steps };
  const side = Math.round(Math.sqrt(inputs));
  if (side * side !== inputs) {
    throw new ValidationError(`${name}: the image is ${width}×${height} = ${width * height} pixels, but the model expects ${inputs} inputs`);
  }
  steps.push(`resized ${width}×${height} → ${side}×${side}`);
  return { input: resample(image, { x: 0, y: 0, w: width, h: height }, side, side), steps };
}

/** MNIST's layout: the ink's bounding box scaled (aspect kept) to fit 20 × 20, placed in 28 × 28 with its centre of mass at the centre. */
function digitField(img: GrayImage, steps: string[]): Float64Array {
  const box = inkBox(img);
  if (box === undefined) return fitField(img, 28, steps); // blank: nothing to centre
  const scale = 20 / Math.max(box.w, box.h);
  const w = Math.max(1, Math.round(box.w * scale));
  const h = Math.max(1, Math.round(box.h * scale));
  const patch = resample(img, box, w, h);
  // centre of mass of the patch, pixel centres at +0.5
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = patch[y * w + x]!;
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const clamp = (v: number, max: number): number => Math.min(Math.max(v, 0), max);
  // MNIST puts the centre of mass at pixel (14, 14), that is at 14.5 counting pixel centres at +0.5
  const left = clamp(Math.round(14.5 - (mass > 0 ? mx / mass : w / 2)), 28 - w);
  const top = clamp(Math.round(14.5 - (mass > 0 ? my / mass : h / 2)), 28 - h);
  steps.push(`ink ${box.w}×${box.h} scaled to ${w}×${h}, centred by mass in 28×28`);
  return place(patch, w, h, left, top, 28);
}

/** The whole image scaled (aspect kept) to fit size × size, centred on black. */
function fitField(img: GrayImage, size: number, steps: string[]): Float64Array {
  const scale = size / Math.max(img.width, img.height);
  const w = Math.max(1, Math.round(img.width * scale));
  const h = Math.max(1, Math.round(img.height * scale));
  steps.push(`resized ${img.width}×${img.height} → ${w}×${h}, centred in ${size}×${size}`);
  const patch = resample(img, { x: 0, y: 0, w: img.width, h: img.height }, w, h);
  return place(patch, w, h, Math.floor((size - w) / 2), Math.floor((size - h) / 2), size);
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The smallest box holding every pixel brighter than a tenth of the brightest, or undefined if all are black. */
function inkBox(img: GrayImage): Box | undefined {
  const max = img.pixels.reduce((m, v) => Math.max(m, v), 0);
  if (max === 0) return undefined;
  let [x0, y0, x1, y1] = [img.width, img.height, -1, -1];
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (img.pixels[y * img.width + x]! > max / 10) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  }
  return { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/**
 * Area resampling of `box` of the image to w × h: each output pixel is the mean of the source area
 * it covers, partial pixels weighted by their overlap. Averages when shrinking; when enlarging it
 * repeats pixels (nearest-neighbour-like), which is enough for 28 × 28 fields.
 */
export function resample(img: GrayImage, box: Box, w: number, h: number): Float64Array {
  const out = new Float64Array(w * h);
  const sx = box.w / w;
  const sy = box.h / h;
  for (let j = 0; j < h; j++) {
    const ya = box.y + j * sy;
    const yb = ya + sy;
    for (let i = 0; i < w; i++) {
      const xa = box.x + i * sx;
      const xb = xa + sx;
      let sum = 0;
      // the end bounds are clamped: ya + sy can round to just past the box's last row
      for (let y = Math.floor(ya); y < Math.min(Math.ceil(yb), box.y + box.h); y++) {
        const wy = Math.min(yb, y + 1) - Math.max(ya, y);
        for (let x = Math.floor(xa); x < Math.min(Math.ceil(xb), box.x + box.w); x++) {
          const wx = Math.min(xb, x + 1) - Math.max(xa, x);
          sum += wx * wy * img.pixels[y * img.width + x]!;
        }
      }
      out[j * w + i] = sum / (sx * sy);
    }
  }
  return out;
}

/** A w × h patch on a black size × size field with its top-left corner at (left, top). */
function place(patch: Float64Array, w: number, h: number, left: number, top: number, size: number): Float64Array {
  const field = new Float64Array(size * size);
  for (let y = 0; y < h; y++) field.set(patch.subarray(y * w, (y + 1) * w), (top + y) * size + left);
  return field;
}

/** Mean brightness of the outermost rows and columns. */
function borderMean(img: GrayImage): number {
  const { width: w, height: h, pixels } = img;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (y === 0 || y === h - 1 || x === 0 || x === w - 1) {
        sum += pixels[y * w + x]!;
        n++;
      }
    }
  }
  return n === 0 ? 0 : sum / n;
}
