import { CanActivate, Controller, Get, Injectable, UseGuards } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { FakeRequest, contextFor, demoUser } from '../../test/authz/unit-helpers';
import { EzidHttpException } from '../common/ezid-http.exception';
import { Public } from '../decorators/public.decorator';
import { getAuthzView, markAnonymousPass } from './authz-context';
import { EZID_DEFERRED_AUTHORIZATION, appendDeferredAuthorization } from './ezid-deferred-authorization';

class OtherGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Public()
class PublicBase {
  @Get('inherited') inherited() {}
}

@Controller('sub')
class PublicSubController extends PublicBase {
  @Get('own') own() {}
}

@Controller('mixed')
class MixedController {
  @Public() @UseGuards(OtherGuard) @Get('open') open() {}
  @Get('closed') closed() {}
}

/** A provider with handlers (a resolver or a gateway): its @Public() methods get the check too. */
@Injectable()
class ResolverLike {
  @Public() field() {}
  other() {}
}

const guardsOf = (handler: unknown): unknown[] =>
  (Reflect.getMetadata(GUARDS_METADATA, handler as object) as unknown[] | undefined) ?? [];

async function appendIn(): Promise<void> {
  const moduleRef = await Test.createTestingModule({
    controllers: [PublicSubController, MixedController],
    providers: [ResolverLike, OtherGuard, DiscoveryService],
  }).compile();
  appendDeferredAuthorization(moduleRef.get(DiscoveryService), moduleRef.get(Reflector));
  await moduleRef.close();
}

describe('appendDeferredAuthorization', () => {
  beforeAll(appendIn);

  it('appends the check last to every @Public() handler (handler, class, base class; controllers and providers)', () => {
    expect(guardsOf(MixedController.prototype.open)).toEqual([OtherGuard, EZID_DEFERRED_AUTHORIZATION]);
    expect(guardsOf(PublicSubController.prototype.own)).toEqual([EZID_DEFERRED_AUTHORIZATION]);
    expect(guardsOf(PublicBase.prototype.inherited)).toEqual([EZID_DEFERRED_AUTHORIZATION]);
    expect(guardsOf(ResolverLike.prototype.field)).toEqual([EZID_DEFERRED_AUTHORIZATION]);
  });

  it('leaves every other handler alone', () => {
    expect(guardsOf(MixedController.prototype.closed)).toEqual([]);
    expect(guardsOf(ResolverLike.prototype.other)).toEqual([]);
  });

  it('appends once however many apps are created with the same classes', async () => {
    await appendIn();
    expect(guardsOf(MixedController.prototype.open)).toEqual([OtherGuard, EZID_DEFERRED_AUTHORIZATION]);
  });
});

describe('EZID_DEFERRED_AUTHORIZATION', () => {
  const handler = MixedController.prototype.open;
  const run = (req: FakeRequest) =>
    EZID_DEFERRED_AUTHORIZATION.canActivate(contextFor('http', req, handler, MixedController));
  const passAnonymously = (req: FakeRequest, guard: CanActivate) => {
    const view = getAuthzView(contextFor('http', req, handler, MixedController))!;
    markAnonymousPass(view, guard);
  };

  it('allows at once without an anonymous pass, or while the request has no user', () => {
    const never: CanActivate = {
      canActivate: () => {
        throw new Error('must not run');
      },
    };
    expect(run({ user: demoUser(), headers: {} })).toBe(true);
    const anonymous: FakeRequest = { headers: {} };
    passAnonymously(anonymous, never);
    expect(run(anonymous)).toBe(true);
  });

  it('runs the guard that passed the request anonymously once a user appeared: its allow allows', async () => {
    const calls: unknown[] = [];
    const req: FakeRequest = { headers: {} };
    passAnonymously(req, { canActivate: (c) => (calls.push(c), Promise.resolve(true)) });
    req.user = demoUser();
    await expect(run(req)).resolves.toBe(true);
    expect(calls).toHaveLength(1);
  });

  it.each([
    ['false', false],
    ['a promise of false', Promise.resolve(false)],
    ['a truthy non-true value', 1],
    ['an observable', { subscribe: () => undefined }],
  ])(
    'anything but true (%s) is 403 access_denied with the insufficient_scope challenge',
    async (_l, answer) => {
      const headers: Record<string, string> = {};
      const req: FakeRequest = { headers: {} };
      passAnonymously(req, { canActivate: () => answer as never });
      req.user = demoUser();
      const ctx = contextFor('http', req, handler, MixedController, {
        setHeader: (n: string, v: string) => (headers[n.toLowerCase()] = v),
      });
      let thrown: unknown;
      try {
        await EZID_DEFERRED_AUTHORIZATION.canActivate(ctx);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(EzidHttpException);
      expect((thrown as EzidHttpException).getResponse()).toMatchObject({
        statusCode: 403,
        code: 'access_denied',
      });
      expect(headers['www-authenticate']).toBe('Bearer error="insufficient_scope"');
    },
  );

  it("the guard's own exception is the answer", () => {
    const req: FakeRequest = { headers: {} };
    const refusal = new EzidHttpException(403, 'tenant_forbidden', 'no');
    passAnonymously(req, {
      canActivate: () => {
        throw refusal;
      },
    });
    req.user = demoUser();
    expect(() => run(req)).toThrow(refusal);
  });
});
