import { describe, expect, it } from "vitest";
import { asOfParam } from "./Reports";

describe("asOfParam", () => {
  it("sends the local instant with the reader's UTC offset", () => {
    const value = asOfParam("2030-03-01T12:30");
    expect(value).toMatch(/^2030-03-01T12:30:00[+-]\d\d:\d\d$/);
    expect(new Date(value ?? "").getTime()).toBe(new Date("2030-03-01T12:30").getTime());
  });

  it("sends nothing when no date is chosen", () => {
    expect(asOfParam("")).toBeUndefined();
  });
});
