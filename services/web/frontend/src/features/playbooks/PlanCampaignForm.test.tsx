import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../../api/problem";
import type { Campaign } from "../../api/types";
import { PlanCampaignForm, fieldErrors } from "./PlanCampaignForm";

const options = {
  playbookId: "p1", playbookVersion: 2, roles: ["writer"],
  teams: [{ team_id: "marketing", name: "Marketing", country: null, subdivision: null, closed_days: [], queues: [], manager_id: null }],
  goals: [], members: [],
};

describe("PlanCampaignForm", () => {
  it("sends the planning body and hands over the new campaign", async () => {
    const campaign = { id: "c9" } as Campaign;
    const plan = vi.fn().mockResolvedValue(campaign);
    const onPlanned = vi.fn();
    render(<PlanCampaignForm options={options} plan={plan} onPlanned={onPlanned} />);
    await userEvent.type(screen.getByLabelText("Campaign name"), "Spring launch");
    await userEvent.type(screen.getByLabelText("Launch date"), "2030-04-01");
    await userEvent.selectOptions(screen.getByLabelText("Team"), "marketing");
    await userEvent.click(screen.getByRole("button", { name: "Plan a campaign" }));
    expect(plan).toHaveBeenCalledWith(expect.objectContaining({
      playbook_id: "p1", playbook_version: 2, name: "Spring launch", launch_date: "2030-04-01", team_id: "marketing",
    }));
    expect(onPlanned).toHaveBeenCalledWith(campaign);
  });

  it("shows a 422's field errors next to their fields", async () => {
    const plan = vi.fn().mockRejectedValue(new ApiError({
      title: "Unprocessable Content", status: 422,
      errors: [{ loc: ["body", "name"], msg: "String should have at least 1 character" }],
    }));
    render(<PlanCampaignForm options={options} plan={plan} onPlanned={vi.fn()} />);
    await userEvent.click(screen.getByRole("button", { name: "Plan a campaign" }));
    const name = screen.getByLabelText("Campaign name");
    expect(await screen.findByRole("alert")).toHaveTextContent("(422)");
    expect(name).toHaveAttribute("aria-invalid", "true");
    expect(name).toHaveAccessibleDescription("String should have at least 1 character");
  });

  it("maps error locations to body fields", () => {
    const error = new ApiError({ title: "x", status: 422, errors: [{ loc: ["body", "assignments", "writer"], msg: "unknown member" }] });
    expect(fieldErrors(error)).toEqual({ "assignments.writer": "unknown member" });
  });
});
