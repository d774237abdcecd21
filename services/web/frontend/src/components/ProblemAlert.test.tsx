import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ApiError, toProblem } from "../api/problem";
import { ProblemAlert } from "./ProblemAlert";

describe("ProblemAlert", () => {
  it("shows title, status, detail and each field's error of a 422", () => {
    const problem = toProblem(
      {
        type: "https://marketflow.example/problems/invalid-request",
        title: "Invalid request",
        status: 422,
        detail: "the request does not match the schema",
        errors: [{ loc: ["body", "reference"], msg: "Field required", type: "missing" }],
      },
      422,
    );
    render(<ProblemAlert error={new ApiError(problem)} />);
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("Invalid request (422)");
    expect(alert).toHaveTextContent("the request does not match the schema");
    expect(alert).toHaveTextContent("body.reference: Field required");
  });

  it("falls back to the status when the body is no problem", () => {
    expect(toProblem("<html>", 502, "Bad Gateway")).toEqual({
      title: "Bad Gateway",
      status: 502,
      detail: "<html>",
    });
  });
});
