import pngjs from "pngjs";
import { describe, expect, it } from "vitest";
import { decodePng, isBlank, resample, toModelInput, type GrayImage } from "../src/cli/image.js";
import { ValidationError } from "../src/index.js";
import { someDigits } from "./fixtures/digits.js";

// How `shoal predict` turns a picture into a model input (src/cli/image.ts), in process.
function png(width: number, height: number, rgba: (i: number) => [number, number, number, number], colorType: 0 | 2 | 4 | 6): Buffer {
  const image = new pngjs.PNG({ width, height });
  for (let i = 0; i < width * height; i++) image.data.set(rgba(i), 4 * i);
  return pngjs.PNG.sync.write(image, { colorType, inputColorType: 6, inputHasAlpha: true });
}

function image(width: number, height: number, f: (x: number, y: number) => number): GrayImage {
  return { width, height, pixels: Float64Array.from({ length: width * height }, (_, i) => f(i % width, Math.floor(i / width))) };
}

async function digit(i = 0): Promise<GrayImage> {
  const { test } = await someDigits(0, i + 1);
  return { width: 28, height: 28, pixels: Float64Array.from(test.inputs.subarray(i * 784, (i + 1) * 784)) };
}

describe("decodePng", () => {
  it("reads grayscale, RGB and RGBA as brightness in [0, 1], transparent pixels as white", () => {
    const gray = decodePng(png(2, 1, (i) => (i === 0 ? [0, 0, 0, 255] : [255, 255, 255, 255]), 0), "g.png");
    expect(Array.from(gray.pixels)).toEqual([0, 1]);
    const rgb = decodePng(png(3, 1, (i) => [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]][i] as [number, number, number, number], 2), "c.png");
    expect(Array.from(rgb.pixels).map((v) => v.toFixed(3))).toEqual(["0.299", "0.587", "0.114"]);
    const rgba = decodePng(png(2, 1, (i) => (i === 0 ? [0, 0, 0, 0] : [0, 0, 0, 255]), 6), "a.png");
    expect(Array.from(rgba.pixels)).toEqual([1, 0]);
    expect([gray.width, gray.height, rgb.width, rgba.width]).toEqual([2, 1, 3, 2]);
  });

  it("names the file when the bytes are not a PNG", () => {
    expect(() => decodePng(Buffer.from("\x89PNG\r\n\x1a\nbroken"), "x.png")).toThrow(/^x\.png: not a readable PNG: /);
  });
});

describe("isBlank", () => {
  it("is true for an image all of one colour, false once there is ink", async () => {
    expect(isBlank(image(5, 4, () => 1))).toBe(true);
    expect(isBlank(image(5, 4, () => 0))).toBe(true);
    expect(isBlank(image(5, 4, (x) => 0.5 + x * 0.001))).toBe(true); // below 5 grey levels: noise
    expect(isBlank(image(5, 4, (x, y) => (x === 2 && y === 2 ? 0 : 1)))).toBe(false);
    expect(isBlank(await digit())).toBe(false);
  });
});

describe("toModelInput for a 784-input (MNIST) model", () => {
  it("uses a 28×28 light-on-dark image as it is", async () => {
    const d = await digit();
    const { input, steps } = toModelInput(d, 784, "digit", "d.png");
    expect(Array.from(input)).toEqual(Array.from(d.pixels));
    expect(steps).toEqual([]);
  });

  it("inverts an image whose border is light", async () => {
    const d = await digit();
    const { input, steps } = toModelInput({ ...d, pixels: d.pixels.map((v) => 1 - v) }, 784, "digit", "d.png");
    Array.from(input).forEach((v, k) => expect(v).toBeCloseTo(d.pixels[k]!, 12));
    expect(steps).toEqual(["inverted (light background; the model expects light ink on black)"]);
  });

  it("brings a digit drawn 4× larger, off-centre and dark on light, back to MNIST's layout", async () => {
    for (const i of [0, 1, 2]) {
      const d = await digit(i);
      const big = image(150, 130, (x, y) => {
        const [sx, sy] = [Math.floor((x - 30) / 4), Math.floor((y - 5) / 4)];
        return sx >= 0 && sx < 28 && sy >= 0 && sy < 28 ? 1 - d.pixels[sy * 28 + sx]! : 1;
      });
      const { input, steps } = toModelInput(big, 784, "digit", "big.png");
      expect(steps[1]).toMatch(/^ink \d+×\d+ scaled to \d+×\d+, centred by mass in 28×28$/);
      // MNIST digits are themselves fitted into 20×20 and centred by mass: the round trip is close
      let diff = 0;
      for (let k = 0; k < 784; k++) diff += Math.abs(input[k]! - d.pixels[k]!);
      expect(diff / 784).toBeLessThan(0.01);
    }
  });

  it("fits a whole picture into 28×28 for Fashion-MNIST models, and survives a blank image", () => {
    const wide = image(56, 28, (x) => (x < 28 ? 0.1 : 0.4)); // a dark picture: not inverted
    const { input, steps } = toModelInput(wide, 784, "fit", "w.png");
    expect(steps).toEqual(["resized 56×28 → 28×14, centred in 28×28"]);
    expect(input[6 * 28]).toBe(0); // above the picture (rows 7…20): black
    expect(input[7 * 28]).toBeCloseTo(0.1, 12);
    expect(input[14 * 28 + 3]).toBeCloseTo(0.1, 12);
    expect(input[14 * 28 + 20]).toBeCloseTo(0.4, 12);
    const blank = toModelInput(image(40, 40, () => 0), 784, "digit", "blank.png");
    expect(Array.from(blank.input).every((v) => v === 0)).toBe(true);
  });
});

describe("toModelInput for other models", () => {
  it("uses an image with exactly the model's input count as it is, resizes to a square input, else fails", () => {
    const img = image(4, 2, (x, y) => (x + y) / 10);
    expect(Array.from(toModelInput(img, 8, "digit", "i.png").input)).toEqual(Array.from(img.pixels));
    const square = toModelInput(image(4, 4, (x) => (x < 2 ? 0 : 1)), 4, "digit", "s.png");
    expect(Array.from(square.input)).toEqual([0, 1, 0, 1]);
    expect(square.steps).toEqual(["resized 4×4 → 2×2"]);
    expect(() => toModelInput(img, 10, "digit", "i.png")).toThrow(ValidationError);
    expect(() => toModelInput(img, 10, "digit", "i.png")).toThrow("i.png: the image is 4×2 = 8 pixels, but the model expects 10 inputs");
  });

  it("area resampling keeps the mean brightness when shrinking by a fraction", () => {
    const img = image(7, 5, (x, y) => ((x * 3 + y * 5) % 7) / 7);
    const out = resample(img, { x: 0, y: 0, w: 7, h: 5 }, 3, 2);
    const mean = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    expect(mean(out)).toBeCloseTo(mean(img.pixels), 12);
  });
});
