import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import type { CampaignProgress, CampaignSummary } from "../../api/types";
import { CampaignTable } from "./CampaignList";

const campaign: CampaignSummary = {
  id: "c1", name: "Spring launch", launch_date: "2030-04-01", playbook_id: "p1", playbook_version: 2,
  team_id: null, goal_ids: [], status: "active",
};

describe("CampaignTable", () => {
  it("shows name, playbook, progress and links to board, timeline and audit", () => {
    const progress = [{ campaign_id: "c1", percent_done: 50, tasks_done: 2, tasks_total: 4, start_date: "2030-03-01" } as CampaignProgress];
    render(
      <MemoryRouter>
        <CampaignTable campaigns={[campaign]} playbooks={[{ id: "p1", name: "Product launch", version: 2, tasks: 4 }]} progress={progress} />
      </MemoryRouter>,
    );
    const row = screen.getByRole("row", { name: /Spring launch/ });
    expect(row).toHaveTextContent("Product launch");
    expect(row).toHaveTextContent("2/4 (50%)");
    expect(within(row).getByRole("link", { name: "Board of Spring launch" })).toHaveAttribute("href", "/campaigns/c1/board");
    expect(within(row).getByRole("link", { name: "Timeline of Spring launch" })).toHaveAttribute("href", "/campaigns/c1/timeline");
    expect(within(row).getByRole("link", { name: "Audit of Spring launch" })).toHaveAttribute("href", "/audit/campaigns/c1");
  });
});
