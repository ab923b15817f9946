/**
 * MNIST-style layout of a picture of a digit in a 28 × 28 field: what `shoal predict` does to a PNG
 * and the dashboard's drawing pad to its canvas. It imports nothing, so the server can send its
 * compiled JavaScript to the browser as it is (src/service/dashboard.ts); keep it that way.
 */

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

/**
 * The 784 inputs of an MNIST-style model from an image: light ink on a dark background, as in MNIST.
 * An image whose border is mostly light (mean border brightness > 0.5) is inverted first. A 28 × 28
 * image is then used as it is; any other size is laid out as `style` says. What was done is pushed
 * onto `steps`, for the user.
 */
export function mnistField(image: GrayImage, style: FieldStyle = "digit", steps: string[] = []): Float64Array {
  let img = image;
  if (borderMean(image) > 0.5) {
    img = { ...image, pixels: image.pixels.map((v) => 1 - v) };
    steps.push("inverted (light background; the model expects light ink on black)");
  }
  if (image.width === 28 && image.height === 28) return img.pixels;
  return style === "digit" ? digitField(img, steps) : fitField(img, 28, steps);
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
