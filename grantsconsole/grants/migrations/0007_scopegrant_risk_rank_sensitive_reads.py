# Read scopes that expose credentials or personal data are rated above low.

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('grants', '0006_syncrun_baseline'),
    ]

    operations = [
        # A generated column cannot be altered: drop it and add it again (the
        # database recomputes every row's rank).
        migrations.RemoveField(
            model_name='scopegrant',
            name='risk_rank',
        ),
        migrations.AddField(
            model_name='scopegrant',
            name='risk_rank',
            field=models.GeneratedField(db_persist=True, expression=models.Case(models.When(scope_id__in=['okta.apiTokens.manage', 'okta.appGrants.manage', 'okta.apps.manage', 'okta.authenticators.manage', 'okta.authorizationServers.manage', 'okta.clients.manage', 'okta.clients.register', 'okta.directories.groups.manage', 'okta.domains.manage', 'okta.factors.manage', 'okta.groups.manage', 'okta.identitySources.manage', 'okta.idps.manage', 'okta.inlineHooks.manage', 'okta.oauthIntegrations.manage', 'okta.orgs.manage', 'okta.policies.manage', 'okta.roles.manage', 'okta.serviceAccounts.manage', 'okta.serviceAccounts.okta.manage', 'okta.users.manage'], then=models.Value(4)), models.When(scope_id__in=['okta.agentPools.manage', 'okta.apps.interclientTrust.manage', 'okta.apps.read', 'okta.behaviors.manage', 'okta.botProtection.manage', 'okta.captchas.manage', 'okta.certificateAuthorities.manage', 'okta.customTelephonyProvider.manage', 'okta.customTelephonyProvider.read', 'okta.deviceAssurance.manage', 'okta.deviceIntegrations.manage', 'okta.devicePostureChecks.manage', 'okta.devices.manage', 'okta.dr.manage', 'okta.emailDomains.manage', 'okta.emailServers.manage', 'okta.eventHooks.manage', 'okta.events.read', 'okta.features.manage', 'okta.governance.admin.manage', 'okta.governance.entitlements.manage', 'okta.governance.principalSettings.manage', 'okta.governance.settings.manage', 'okta.idps.read', 'okta.logStreams.manage', 'okta.logs.read', 'okta.networkZones.manage', 'okta.oag.app.manage', 'okta.oag.authenticationService.manage', 'okta.oag.idp.manage', 'okta.profileMappings.manage', 'okta.realmAssignments.manage', 'okta.realms.manage', 'okta.schemas.manage', 'okta.securityEventsProviders.manage', 'okta.sessions.manage', 'okta.threatInsights.manage', 'okta.trustedOrigins.manage', 'okta.universalLogout.manage', 'okta.userRisk.manage', 'okta.userTypes.manage', 'okta.users.read', 'okta.workflows.invoke.manage', 'ssf.manage'], then=models.Value(3)), models.When(scope_id__in=['okta.accessRequests.condition.manage', 'okta.accessRequests.request.manage', 'okta.accessRequests.tasks.manage', 'okta.apiTokens.read', 'okta.authenticators.read', 'okta.brands.manage', 'okta.clients.read', 'okta.devices.read', 'okta.factors.read', 'okta.governance.accessCertifications.manage', 'okta.governance.accessRequests.manage', 'okta.governance.collections.manage', 'okta.governance.labels.manage', 'okta.governance.resourceOwner.manage', 'okta.governance.riskRule.manage', 'okta.governance.securityAccessReviews.admin.manage', 'okta.groups.read', 'okta.identitySources.read', 'okta.linkedObjects.manage', 'okta.principalRateLimits.manage', 'okta.pushProviders.manage', 'okta.rateLimits.manage', 'okta.sessions.read', 'okta.templates.manage', 'okta.uischemas.manage', 'okta.userRisk.read'], then=models.Value(2)), models.When(models.Q(django.db.models.lookups.Exact(django.db.models.functions.text.Right('scope_id', 7), models.Value('.manage')), models.Q(('scope_id__in', ['okta.governance.reviewer.manage', 'okta.governance.securityAccessReviews.endUser.manage', 'okta.myAccount.appAuthenticator.maintenance.manage', 'okta.myAccount.appAuthenticator.manage', 'okta.myAccount.authenticators.manage', 'okta.myAccount.email.manage', 'okta.myAccount.password.manage', 'okta.myAccount.phone.manage', 'okta.myAccount.profile.manage', 'okta.myAccount.sessions.manage', 'okta.myAccount.webauthn.manage', 'okta.personal.adminSettings.manage']), _negated=True)), then=models.Value(3)), default=models.Value(0)), output_field=models.PositiveSmallIntegerField()),
        ),
    ]
