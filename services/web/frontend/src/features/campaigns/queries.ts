import { useQuery } from "@tanstack/react-query";
import { allPages, planning, reporting, unwrap } from "../../api/client";
import type { SignedIn } from "../../api/auth";
import { seesAll } from "../auth/roles";

export function useCampaigns() {
  return useQuery({
    queryKey: ["planning", "campaigns"],
    queryFn: () => allPages((cursor) => planning.GET("/campaigns", { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
  });
}

export function useCampaign(campaignId: string) {
  return useQuery({
    queryKey: ["planning", "campaign", campaignId],
    queryFn: () => unwrap(planning.GET("/campaigns/{campaign_id}", { params: { path: { campaign_id: campaignId } } })),
    enabled: Boolean(campaignId),
  });
}

export function usePlaybooks() {
  return useQuery({
    queryKey: ["planning", "playbooks"],
    queryFn: () => allPages((cursor) => planning.GET("/playbooks", { params: { query: { limit: 200, ...(cursor ? { cursor } : {}) } } })),
  });
}

/** Progress of every campaign for those who see all; a contributor or team manager may
 * only ask for their own work's (the server refuses the whole list to them with a 403). */
export function useProgressReport(me: SignedIn) {
  const query = seesAll(me) ? {} : { member_id: me.member_id };
  return useQuery({
    queryKey: ["reporting", "progress", query],
    queryFn: () => unwrap(reporting.GET("/reports/progress", { params: { query } })),
  });
}

/** Links of a campaign's views (board, timeline, audit). */
export const campaignLinks = (id: string) => ({
  board: `/campaigns/${id}/board`,
  timeline: `/campaigns/${id}/timeline`,
  audit: `/audit/campaigns/${id}`,
});
