import { useQuery, useQueryClient } from "@tanstack/react-query";
import { authApi, type SignedIn } from "../../api/auth";
import { ApiError } from "../../api/problem";

export const ME_KEY = ["auth", "me"] as const;
/** Set on signing out: the sign-in page then returns to My work, not to the last page. */
export const SIGNED_OUT_KEY = ["auth", "signed-out"] as const;

/** The signed-in member, or null when the BFF answers 401. */
export function useMe() {
  return useQuery<SignedIn | null>({
    queryKey: ME_KEY,
    queryFn: async () => {
      try {
        return await authApi.me();
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 60_000,
    retry: false,
  });
}

export function useSignedInMember(): SignedIn {
  const me = useQueryClient().getQueryData<SignedIn | null>(ME_KEY);
  if (!me) throw new Error("useSignedInMember outside a signed-in route");
  return me;
}
