import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { PlaybookDiff, TaskTemplate } from "../../api/types";
import { PlaybookDiffView } from "./PlaybookDiffView";
import { RaciMatrix } from "./RaciMatrix";
import { dateRuleText } from "./raci";

const task = (overrides: Partial<TaskTemplate>): TaskTemplate =>
  ({ key: "pr", title: "Press release", role: "writer", approval_chain: [{ role: "legal", required_approvals: 1 }], consulted: ["designer"], informed: ["sales"], depends_on: [], ...overrides }) as TaskTemplate;

describe("RaciMatrix", () => {
  it("marks each role R, A, C or I for each task", () => {
    render(<RaciMatrix roles={["writer"]} tasks={[task({})]} />);
    const row = screen.getByRole("row", { name: /Press release/ });
    expect(within(row).getAllByRole("cell").map((cell) => cell.textContent)).toEqual(["R", "A", "C", "I"]);
    expect(screen.getAllByRole("columnheader").map((cell) => cell.textContent)).toEqual(["Task", "writer", "legal", "designer", "sales"]);
  });

  it("says date rules in words", () => {
    expect(dateRuleText(task({ date_rule: { kind: "anchor", offset_working_days: -10 } }))).toBe("due 10 working days before launch");
    expect(dateRuleText(task({ depends_on: ["brief"] }))).toBe("after brief");
  });
});

describe("PlaybookDiffView", () => {
  it("shows added, removed and changed fields old → new", () => {
    const diff: PlaybookDiff = {
      from_version: 1, to_version: 2, added: ["teaser"], removed: ["fax"],
      changed: [{ key: "pr", fields: { duration_days: { from: 2, to: 3 } } }], other: {},
    };
    render(<PlaybookDiffView diff={diff} />);
    const region = screen.getByRole("region", { name: "Changes from version 1 to 2" });
    expect(region).toHaveTextContent("Added tasks: teaser");
    expect(region).toHaveTextContent("Removed tasks: fax");
    const row = screen.getByRole("row", { name: /duration_days/ });
    expect(within(row).getAllByRole("cell").map((cell) => cell.textContent)).toEqual(["pr", "duration_days", "2", "3"]);
  });
});
