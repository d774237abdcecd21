import { request } from "./client";

export interface AuthConfig {
  demo: boolean;
  oidc: boolean;
}

export interface SignedIn {
  member_id: string;
  name: string;
  roles: string[];
}

export const authApi = {
  config: () => request<AuthConfig>("/auth/config"),
  demoMembers: () => request<SignedIn[]>("/auth/demo-members"),
  demoLogin: (memberId: string) =>
    request<void>("/auth/demo-login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ member_id: memberId }),
    }),
  me: () => request<SignedIn>("/auth/me"),
  logout: () => request<void>("/auth/logout", { method: "POST" }),
  /** OIDC sign-in is a full-page navigation: the BFF redirects to the provider. */
  ssoUrl: "/auth/login",
};
